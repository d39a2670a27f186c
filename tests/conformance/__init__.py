"""Conformance tests: the shared third-party corpus replayed on Baton (see harness.py)."""
