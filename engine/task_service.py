"""Human-task operations on the Engine facade (claim, unclaim, delegate, comment, ...).

Kept apart from `engine/service.py` so the task rules grow without touching the command
machinery; `Engine` inherits these methods.
"""

from __future__ import annotations


class TaskServiceMixin:
    """Methods are added here by the human task service."""
