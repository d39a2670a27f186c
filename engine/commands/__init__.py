"""Commands: one object per operation, run by the CommandExecutor (see executor.py)."""
