"""Running one stage of a bundle's rules over flat case facts, and applying the fired rules' effects."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Protocol

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.engine import CompiledRuleset, get_engine, param_field
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


@dataclass(frozen=True)
class _Step:
    """One rule's effects, with its written reason and failure made once, not on every firing."""

    rule: Rule
    sets: tuple[tuple[str, Any], ...]
    add_points: int
    per: str | None
    reason: str | None
    failure: str | None


class _StagePlan:
    def __init__(self, compiled: CompiledRuleset) -> None:
        # The case facts the stage reads (parameters come from the bundle, not the facts).
        self.fields = tuple(sorted(f for f in compiled.fields if not f.startswith(param_field(""))))
        self._getter = operator.itemgetter(*self.fields) if len(self.fields) > 1 else None
        self.steps = tuple(_step(rule) for rule in compiled.rules)

    def message(self, facts: dict[str, Any]) -> dict[str, Any]:
        if self._getter is not None:
            try:
                return dict(zip(self.fields, self._getter(facts), strict=True))  # every fact there: one C call
            except KeyError:
                pass
        return {name: facts[name] for name in self.fields if name in facts}


def _step(rule: Rule) -> _Step:
    effects = rule.then
    reason = f"{' '.join(effects.reason.split())} ({rule.reference})" if effects.reason else None
    failure = f"{' '.join(effects.fail.split())} ({rule.reference})" if effects.fail else None
    return _Step(rule, tuple(effects.set), effects.add_points or 0, effects.per, reason, failure)


# Keyed by the compiled ruleset's content-derived name: the same rules always make the same plan,
# and there are never more plans than rulesets the engine holds (it can unregister none).
_PLANS: dict[str, _StagePlan] = {}


def _plan(compiled: CompiledRuleset) -> _StagePlan:
    plan = _PLANS.get(compiled.name)
    if plan is None:
        plan = _PLANS[compiled.name] = _StagePlan(compiled)
    return plan


def run_stage(
    bundle: Bundle, stage: str, facts: dict[str, Any], into: Evaluation, engine: StageEvaluator | None = None
) -> Evaluation:
    """Evaluate one stage's rules (by default in durable_rules) and apply the fired rules' effects."""
    compiled = bundle.compiled(stage)
    plan = _plan(compiled)
    message = plan.message(facts)
    message.update(bundle.param_fields(compiled))
    # Effects apply in rule order (national rules first, then the council's): a later `set` wins.
    for index in (engine or get_engine()).evaluate(compiled, message):
        step = plan.steps[index]
        into.fired.append(step.rule)
        for key, value in step.sets:
            into.outputs[key] = value
        if step.add_points:
            times = int(facts[step.per]) if step.per else 1
            into.points += step.add_points * times
        if step.reason:
            into.reasons.append(step.reason)
        if step.failure:
            into.failures.append(step.failure)
            into.failure_details.append({"outcome": step.rule.then.outcome, "code": step.rule.then.code,
                                         "message": step.failure})
    return into
