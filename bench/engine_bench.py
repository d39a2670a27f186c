"""In-memory engine benchmark: Baton against SpiffWorkflow, measured in the same run.

Diagrams from ../shared/bench-models/: claim (review completed when it appears), straight
(20 script tasks) and loop (n = 10, 1,000, 100,000; SpiffWorkflow only up to 1,000 because
its cost is quadratic). Baton is measured twice: the pure runtime alone (`start`/`advance`,
what `Engine` wraps) and the whole `Engine` facade over the in-memory store (tasks, history,
transactions). Prints instances/second for each, `facade/runtime: P%` on claim, and `ratio claim: Nx` (Engine facade vs
SpiffWorkflow, the fairer comparison), plus the loop's state size at iteration 10 and at
100,000 to show the state does not grow.

Fairness on a shared machine: the engines take turns within each round (Baton runtime,
Baton engine, SpiffWorkflow, then again), so a change in load hits them alike, and each
figure is the median of its rounds. Python's cycle collector keeps its default settings for
both; it only collects before every timed run, so no engine pays for the garbage the
previous measurement left behind.

Usage: python bench/engine_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "bench-models"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def rates(runners: dict[str, tuple[Callable[[], None], int]], repeats: int) -> dict[str, float]:
    """Median instances/s of each runner (function, instances per run) over `repeats`
    rounds in which the runners take turns (see the module docstring)."""
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, (fn, n) in runners.items():
            gc.collect()
            t = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append(n / (time.perf_counter() - t))
    return {name: statistics.median(values) for name, values in samples.items()}


def timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- Baton
def baton_runtime(path: Path, key: str):
    from engine.bpmn import compile_bpmn
    from engine.runtime import advance, start
    from engine.runtime.triggers import Complete, Start
    from engine.testing import ManualClock

    graph = compile_bpmn(path).processes[key]
    now = ManualClock()()

    def run(variables: dict) -> None:
        state, _ = start(graph, Start(dict(variables)), now)
        while state.status == "running":
            waiting = [t for t in state.tokens.values() if t.wait == "user"]
            if not waiting:
                raise RuntimeError("instance stuck")
            advance(graph, state, Complete(waiting[0].id, {}), now)

    return run


def baton_engine(path: Path, key: str):
    from engine import Engine
    from engine.testing import ManualClock

    engine = Engine(clock=ManualClock())
    engine.deploy(path)

    def run(variables: dict) -> None:
        iid = engine.start(key, variables)
        while True:
            tasks = engine.tasks(instance_id=iid)
            if not tasks:
                break
            engine.complete_task(tasks[0].id)

    return run


def loop_state_size(n: int) -> int:
    """Bytes of the persisted state after n loop iterations (a user task waits after the
    loop so the state can be read there): the state and the process variables, which the
    instance record keeps beside it."""
    from engine.bpmn import compile_bpmn
    from engine.runtime import start
    from engine.runtime.triggers import Start
    from engine.testing import ManualClock

    tree = etree.parse(str(MODELS / "loop.bpmn"))
    proc = tree.find(f"{{{BPMN}}}process")
    flow = proc.find(f"{{{BPMN}}}sequenceFlow[@id='f_done']")
    flow.set("targetRef", "pause")
    task = etree.SubElement(proc, f"{{{BPMN}}}userTask", id="pause")
    etree.SubElement(proc, f"{{{BPMN}}}sequenceFlow", id="f_pause", sourceRef="pause",
                     targetRef="end")
    del task
    graph = compile_bpmn(etree.tostring(tree)).processes["loop"]
    state, _ = start(graph, Start({"n": n}), ManualClock()())
    assert state.variables["i"] == n and state.status == "running"
    return len(json.dumps({"state": state.to_dict(), "variables": state.variables}))


# ----------------------------------------------------------------------------- SpiffWorkflow
def spiff_runner(path: Path, key: str):
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_file(str(path))
    spec = parser.get_spec(key)

    def run(variables: dict) -> None:
        wf = BpmnWorkflow(spec)
        wf.task_tree.data.update(variables)
        wf.do_engine_steps()
        while not wf.is_completed():
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                raise RuntimeError("spiff instance stuck")
            ready[0].run()
            wf.do_engine_steps()

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer instances, for smoke runs")
    args = ap.parse_args(argv)
    if not MODELS.exists():
        print(f"bench models not found at {MODELS}", file=sys.stderr)
        return 2
    n = 300 if args.quick else 2000
    reps = 1 if args.quick else 7
    sn = 100 if args.quick else 400
    try:
        import SpiffWorkflow  # noqa: F401
        have_spiff = True
    except ImportError:
        have_spiff = False
        print("SpiffWorkflow is not installed: peer figures skipped")

    print(f"engine_bench: median of {reps} runs; Baton n={n}, SpiffWorkflow n={sn}")
    rows = []
    for name, key, variables in (("claim", "claim", {"amount": 8000}),
                                 ("straight", "straight", {"x": 0})):
        path = MODELS / f"{name}.bpmn"
        runners = {
            "runtime": (lambda f=baton_runtime(path, key), v=variables: f(v), n),
            "engine": (lambda f=baton_engine(path, key), v=variables: f(v), n),
        }
        if have_spiff:
            runners["spiff"] = (lambda f=spiff_runner(path, key), v=variables: f(v), sn)
        got = rates(runners, reps)
        rt, en, sp = got["runtime"], got["engine"], got.get("spiff", float("nan"))
        del runners
        rows.append((name, rt, en, sp))
        print(f"{name:9s} baton runtime {rt:10.0f}/s   baton engine {en:9.0f}/s   "
              f"spiffworkflow {sp:7.0f}/s   runtime {rt / sp:5.1f}x  engine {en / sp:5.1f}x")

    path = MODELS / "loop.bpmn"
    loop_rt = baton_runtime(path, "loop")
    loop_sp = spiff_runner(path, "loop") if have_spiff else None
    sizes = (10, 1000, 100_000) if not args.quick else (10, 1000, 20_000)
    for size in sizes:
        bt = timed(lambda s=size: loop_rt({"n": s}))
        line = f"loop n={size:<7d} baton {bt * 1000:9.1f} ms ({bt / size * 1e6:5.2f} us/iteration)"
        if loop_sp is not None and size <= 1000:
            st = timed(lambda s=size: loop_sp({"n": s}))
            line += f"   spiffworkflow {st * 1000:9.1f} ms   {st / bt:6.1f}x"
        print(line)
    small, big = loop_state_size(10), loop_state_size(sizes[-1])
    print(f"loop state size: {small} bytes at iteration 10, {big} bytes at iteration {sizes[-1]}")
    claim = rows[0]
    print(f"ratio claim: {claim[2] / claim[3]:.1f}x")
    # the Engine facade (commands, transactions, tasks, history over the memory store)
    # against the pure runtime on the same diagram, in the same rounds
    print(f"facade/runtime: {100 * claim[2] / claim[1]:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
