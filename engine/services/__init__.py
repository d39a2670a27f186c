"""Thin services per area: each public method builds one command and executes it.

Why thin: everything that decides (locking, authorization, validation, effects) lives in the
commands and the executor's interceptors, so these classes are only the vocabulary the
facade and the doors speak. No service imports another service or the facade."""
