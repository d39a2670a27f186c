"""Migration scripts, oldest first; released ones are never edited (add a new one)."""
