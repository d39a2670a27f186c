"""Demo data for a first look at Baton: users in every role, the sample diagrams from
`bpmn_models/`, an in-process "fraud-score" connector and a few insurance claims in flight.

`load_demo(engine)` is idempotent: users that exist are left alone, unchanged diagrams are
not redeployed, and claims are started only while none exists yet. So `baton serve --demo`
can run on every start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.registry import ConnectorContext, Registry
from engine import Engine

log = logging.getLogger("baton.demo")

DEMO_PASSWORD = "baton-demo"
MODELS_DIR = Path(__file__).resolve().parent.parent / "bpmn_models"
CLAIM_PROCESS = "insurance_claim"

# (id, name, roles, groups)
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("alice", "Alice Adams", ("staff",), ("adjusters",)),
    ("carol", "Carol Chen", ("staff",), ("adjusters",)),
    ("bob", "Bob Brown", ("staff",), ("supervisors",)),
    ("ann", "Ann Avery", ("analyst",), ()),
    ("admin", "Administrator", ("admin",), ()),
)
DEMO_GROUPS = {"adjusters": "Claim adjusters", "supervisors": "Supervisors"}
DEMO_CLAIMS: tuple[tuple[str, str, int], ...] = (
    ("CLM-1001", "Dana Fischer", 1_250),
    ("CLM-1002", "Mehmet Yilmaz", 480),
    ("CLM-1003", "Sofia Rossi", 14_900),
    ("CLM-1004", "Jonas Berg", 3_100),
)


@dataclass(slots=True)
class DemoReport:
    users_added: list[str] = field(default_factory=list)
    deployed: list[str] = field(default_factory=list)
    claims_started: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.users_added:
            out.append("demo users: " + ", ".join(self.users_added)
                       + f" (password '{DEMO_PASSWORD}')")
        if self.deployed:
            out.append("deployed: " + ", ".join(self.deployed))
        if self.claims_started:
            out.append(f"started {len(self.claims_started)} insurance claims")
        return out or ["demo data already loaded"]


def fraud_score(ctx: ConnectorContext) -> Mapping[str, Any]:
    """A stand-in fraud model: big claims and round amounts look riskier. Deterministic,
    so a retried call gives the same answer."""
    amount = ctx.variables.get("amount") or 0
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        amount = 0
    score = min(99, amount // 400 + (15 if amount % 1000 == 0 else 0) + 5)
    return {"fraudScore": score, "fraudRisk": "high" if score >= 30 else "low"}


def register_demo_connectors(registry: Registry) -> None:
    if registry.get("fraud-score") is None:
        registry.register("fraud-score", fraud_score, source="baton demo (tasklist_ui.demo)")


def load_demo(engine: Engine, *, start_claims: bool = True) -> DemoReport:
    """Load the demo users, diagrams and claims into `engine` (idempotent)."""
    report = DemoReport()
    register_demo_connectors(engine.connectors)
    known_groups = engine.groups()
    for group_id, name in DEMO_GROUPS.items():
        if group_id not in known_groups:
            engine.add_group(group_id, name)
    for user_id, name, roles, groups in DEMO_USERS:
        if engine.get_user(user_id) is None:
            engine.add_user(user_id, name, DEMO_PASSWORD, roles=roles, groups=groups)
            report.users_added.append(user_id)
    for path in sorted(MODELS_DIR.glob("*.bpmn")):
        for d in engine.deploy(path, name=f"demo: {path.name}"):
            if d.new:
                report.deployed.append(f"{d.key} v{d.version}")
    if start_claims and not engine.instances(key=CLAIM_PROCESS):
        for business_key, claimant, amount in DEMO_CLAIMS:
            report.claims_started.append(engine.start(
                CLAIM_PROCESS, {"claimant": claimant, "amount": amount},
                business_key=business_key))
        engine.run_due_jobs()
    return report
