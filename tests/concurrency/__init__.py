"""Races between two engines on one database (see conftest.py and test_races.py)."""
