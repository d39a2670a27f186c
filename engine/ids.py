"""Row ids."""

from __future__ import annotations

import os
from collections import deque

# ids drawn ahead, one getrandom() call per BATCH of them: a system call per id cost more
# than the rest of creating a task row
BATCH = 64
DRAWN: deque[str] = deque()


def new_id() -> str:
    """A new row id: 128 random bits from the OS as 32 hex digits (the shape of
    uuid4().hex, which spends 6 of the bits on a version mark).

    Thread-safe without a lock: deque.popleft and extend are atomic, and two threads that
    both find it empty each add a batch of their own. A forked child starts with none
    drawn (it must not hand out the ids its parent will)."""
    try:
        return DRAWN.popleft()
    except IndexError:
        text = os.urandom(16 * BATCH).hex()
        DRAWN.extend(text[i:i + 32] for i in range(32, 32 * BATCH, 32))
        return text[:32]


os.register_at_fork(after_in_child=DRAWN.clear)
