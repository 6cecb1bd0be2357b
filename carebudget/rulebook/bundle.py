"""A rule bundle: the national rules plus one council's overlay in force on a date, hashed.

The bundle's content (the rule files as written and every parameter resolved on the date) is
canonical JSON; its sha256 identifies it in every decision record, and the content alone is
enough to re-run the decision years later after the files have moved on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from carebudget.rulebook import vocabulary as vocab
from carebudget.rulebook.engine import CompiledRuleset, get_engine, param_field
from carebudget.rulebook.parameters import MissingParameter, ResolvedParameter
from carebudget.rulebook.rules import Rule, RuleFile, parse_rule_file
from carebudget.rulebook.yamlsource import RuleFileError

NATIONAL = "england"
_PENNY = Decimal("0.01")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass
class Bundle:
    council: str
    on: date
    rule_files: tuple[RuleFile, ...]
    parameters: dict[str, ResolvedParameter]
    content: dict[str, Any] = field(init=False)
    hash: str = field(init=False)
    _stages: dict[str, CompiledRuleset] = field(default_factory=dict, init=False, repr=False)
    _param_fields: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)
    _summary: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _amounts: dict[str, Decimal] = field(default_factory=dict, init=False, repr=False)
    # Texts the decision core writes once per bundle (a parameter's note on where its figure
    # comes from, by parameter name; None when it needs none).
    notes: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.content = {
            "format": 1,
            "council": self.council,
            "rule_files": [{"path": _relative(f.path), **f.raw} for f in self.rule_files],
            "parameters": {k: v.to_json() for k, v in sorted(self.parameters.items())},
        }
        self.hash = hashlib.sha256(canonical_json(self.content).encode()).hexdigest()

    @property
    def effective_from(self) -> date:
        dates = [f.effective_from for f in self.rule_files]
        dates += [date.fromisoformat(p.since) for p in self.parameters.values()]
        return max(dates)

    def summary(self) -> dict[str, Any]:
        """What a decision record says of its rules: made once per bundle, a fresh copy each time
        (a record is the caller's to change)."""
        if self._summary is None:
            self._summary = {
                "bundle": self.hash,
                "council": self.council,
                "effective_from": self.effective_from.isoformat(),
                "files": [f"{_relative(f.path)}@{f.effective_from.isoformat()}" for f in self.rule_files],
            }
        return {**self._summary, "files": list(self._summary["files"])}

    def param(self, name: str) -> Any:
        resolved = self.parameters.get(name)
        if resolved is None:
            raise MissingParameter(name, self.on, "no value in force")
        if resolved.value is None:
            raise MissingParameter(name, self.on, resolved.note or f"not confirmed for the period from {resolved.since}")
        return resolved.value

    def amount(self, name: str) -> Decimal:
        """A money parameter to the penny, converted once per bundle (a Decimal is immutable, so
        every decision can share it). MissingParameter as `param`."""
        found = self._amounts.get(name)
        if found is None:
            found = self._amounts[name] = Decimal(str(self.param(name))).quantize(_PENNY)
        return found

    def rules(self, stage: str) -> tuple[Rule, ...]:
        return tuple(r for f in self.rule_files if f.stage == stage for r in f.rules)

    def compiled(self, stage: str) -> CompiledRuleset:
        if stage not in self._stages:
            self._stages[stage] = get_engine().compile(self.rules(stage), stage)
        return self._stages[stage]

    def param_fields(self, compiled: CompiledRuleset) -> dict[str, Any]:
        """Parameter values the stage's conditions read, as message fields."""
        if compiled.name not in self._param_fields:
            self._param_fields[compiled.name] = self._read_param_fields(compiled)
        return self._param_fields[compiled.name]

    def _read_param_fields(self, compiled: CompiledRuleset) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in {p for f in self.rule_files for p in f.params_used()}:
            fieldname = param_field(name)
            if fieldname in compiled.fields:
                value = self.param(name)
                out[fieldname] = float(value) if isinstance(value, str) else value
        return out

    def check(self) -> None:
        """Cross-file checks: parameters exist, the engine can run every stage."""
        for rule_file in self.rule_files:
            for name in sorted(rule_file.params_used()):
                resolved = self.parameters.get(name)
                if resolved is not None and resolved.unit in ("table", "rate_card"):
                    raise RuleFileError(rule_file.path, None, f"parameter {name!r} is a table; conditions need a single value")
        for stage in vocab.STAGES:
            try:
                self.compiled(stage)
            except ValueError as exc:
                raise RuleFileError(self.rule_files[0].path if self.rule_files else "rules", None, str(exc)) from exc


def _relative(path: str) -> str:
    marker = "/rules/"
    return path[path.rfind(marker) + len(marker):] if marker in path else path


def bundle_from_content(content: dict[str, Any], on: date) -> Bundle:
    """Rebuild a stored bundle exactly, without reading any rule file."""
    if not isinstance(content, dict) or content.get("format") != 1:
        raise ValueError("not a stored rule bundle (format 1)")
    files = []
    for raw in content["rule_files"]:
        raw = dict(raw)
        path = raw.pop("path")
        files.append(parse_rule_file(raw, path))
    params = {name: ResolvedParameter(**spec) for name, spec in content["parameters"].items()}
    bundle = Bundle(content["council"], on, tuple(files), params)
    if bundle.hash != hashlib.sha256(canonical_json(content).encode()).hexdigest():
        raise ValueError("stored bundle content does not reproduce its hash")
    return bundle
