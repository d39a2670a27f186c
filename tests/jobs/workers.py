"""Helpers for tests that run real `baton worker` processes against a shared database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from connectors.registry import ConnectorPolicy, Registry
from tests.runtime.conftest import bpmn, flows

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.jobs.crash_connectors"

# start -> timer -> connector call -> async script -> end: three jobs per instance
CRASH = bpmn(
    '<startEvent id="s"/>'
    '<intermediateCatchEvent id="wait"><timerEventDefinition><timeDuration>PT0.2S'
    '</timeDuration></timerEventDefinition></intermediateCatchEvent>'
    '<serviceTask id="call" camunda:type="external" camunda:topic="crash-echo">'
    '<extensionElements><camunda:inputOutput><camunda:inputParameter name="n">${n}'
    '</camunda:inputParameter></camunda:inputOutput></extensionElements></serviceTask>'
    '<scriptTask id="after" camunda:asyncBefore="true"><script>seen = echoed</script>'
    '</scriptTask><endEvent id="e"/>' + flows("s>wait", "wait>call", "call>after", "after>e"),
    pid="crash")
FAILING = bpmn('<startEvent id="s"/><serviceTask id="call" camunda:type="external" '
               'camunda:topic="crash-fail"/><endEvent id="e"/>' + flows("s>call", "call>e"),
               pid="failing")


def creator_registry() -> Registry:
    """The connector names (and policies) as the worker processes register them: the
    process that starts instances must know them to route service tasks to connector jobs."""
    reg = Registry()
    reg.register("crash-echo", lambda ctx: {}, ConnectorPolicy(timeout=None, retries=5,
                                                               backoff=0.2))
    reg.register("crash-fail", lambda ctx: {}, ConnectorPolicy(timeout=None, retries=1))
    return reg


def worker_env(calls_file: Path | None = None, delay: float = 0.01) -> dict[str, str]:
    env = dict(os.environ)
    env["BATON_CONNECTOR_MODULES"] = MODULE
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["BATON_TEST_CONNECTOR_DELAY"] = str(delay)
    env["BATON_LOG_LEVEL"] = "WARNING"
    if calls_file is not None:
        env["BATON_TEST_CALLS_FILE"] = str(calls_file)
    return env


def baton(*args: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the engine CLI (`baton ...`) in a new process."""
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT,
                          env=env or worker_env(), capture_output=True, text=True,
                          timeout=timeout)


def spawn_worker(url: str, log: IO[Any], env: dict[str, str], *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "engine.cli", "worker", "--db", url, "--poll", "0.05",
           *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             poll: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
