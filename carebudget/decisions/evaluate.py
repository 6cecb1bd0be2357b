"""Running one stage of a bundle's rules over flat case facts, and applying the fired rules' effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.engine import CompiledRuleset, get_engine
from carebudget.rulebook.rules import Rule


@dataclass
class Evaluation:
    """What the rules decided so far: outputs, points, and the written reasons in rule order."""

    outputs: dict[str, Any] = field(default_factory=dict)
    points: int = 0
    reasons: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failure_details: list[dict[str, Any]] = field(default_factory=list)  # {outcome, code, message}
    fired: list[Rule] = field(default_factory=list)

    def get(self, name: str, default: Any = None) -> Any:
        return self.outputs.get(name, default)


class StageEvaluator(Protocol):
    def evaluate(self, compiled: CompiledRuleset, message: dict[str, Any]) -> list[int]: ...


def run_stage(
    bundle: Bundle, stage: str, facts: dict[str, Any], into: Evaluation, engine: StageEvaluator | None = None
) -> Evaluation:
    """Evaluate one stage's rules (by default in durable_rules) and apply the fired rules' effects."""
    compiled = bundle.compiled(stage)
    message = {name: facts[name] for name in compiled.fields if name in facts}
    message.update(bundle.param_fields(compiled))
    # Effects apply in rule order (national rules first, then the council's): a later `set` wins.
    for index in (engine or get_engine()).evaluate(compiled, message):
        rule = compiled.rules[index]
        effects = rule.then
        into.fired.append(rule)
        for key, value in effects.set:
            into.outputs[key] = value
        if effects.add_points:
            times = int(facts[effects.per]) if effects.per else 1
            into.points += effects.add_points * times
        if effects.reason:
            into.reasons.append(f"{' '.join(effects.reason.split())} ({rule.reference})")
        if effects.fail:
            failure = f"{' '.join(effects.fail.split())} ({rule.reference})"
            into.failures.append(failure)
            into.failure_details.append({"outcome": effects.outcome, "code": effects.code, "message": failure})
    return into

