"""Row ids: drawn from the OS ahead of use, yet unique across threads and forked workers."""

from __future__ import annotations

import os
import re
import threading

from engine import ids
from engine.ids import new_id


def test_ids_are_32_hex_digits_and_distinct_across_batches() -> None:
    got = [new_id() for _ in range(ids.BATCH * 5 + 3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in got)
    assert len(set(got)) == len(got)


def test_threads_drawing_at_once_never_share_an_id() -> None:
    ids.DRAWN.clear()
    out: list[list[str]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def draw(k: int) -> None:
        barrier.wait()
        out[k].extend(new_id() for _ in range(2000))

    threads = [threading.Thread(target=draw, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for part in out for i in part]
    assert len(set(every)) == len(every) == 8000


def test_a_forked_child_does_not_hand_out_its_parents_drawn_ids() -> None:
    new_id()                       # the parent now holds ids drawn ahead
    ahead = set(ids.DRAWN)
    assert ahead
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                   # the child: report the ids it would use next
        try:
            os.write(write, " ".join(new_id() for _ in range(len(ahead))).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = set(f.read().split())
    os.waitpid(pid, 0)
    assert len(child) == len(ahead)
    assert not child & ahead
