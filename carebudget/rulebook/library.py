"""Every rule and parameter file under the rules folder, loaded and checked as one snapshot.

Layout: rules/england/*.yaml (national rules), rules/england/parameters/*.yaml (legal amounts),
rules/councils/<code>/*.yaml and .../parameters/*.yaml (the council overlay), and
rules/councils/<code>/tests/*.yaml (the council's rule tests, run by `carebudget rules test`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from carebudget.rulebook import vocabulary as vocab
from carebudget.rulebook.bundle import NATIONAL, Bundle
from carebudget.rulebook.limits import overlay_problems, stage_problems
from carebudget.rulebook.parameters import ParameterDef, parse_parameter_file, resolve
from carebudget.rulebook.rules import RuleFile, parse_rule_file
from carebudget.rulebook.yamlsource import RuleFileError, load_yaml


class UnknownCouncil(LookupError):
    def __init__(self, council: str, known: list[str]) -> None:
        self.council = council
        super().__init__(f"unknown council {council!r}; known: {', '.join(known)}")


@dataclass
class Layer:
    """The national rules, or one council's overlay."""

    code: str
    rule_files: list[RuleFile] = field(default_factory=list)
    parameters: dict[str, ParameterDef] = field(default_factory=dict)
    tests_dir: Path | None = None

    def files_in_force(self, on: date) -> list[RuleFile]:
        latest: dict[str, RuleFile] = {}
        for rule_file in self.rule_files:
            if rule_file.effective_from <= on:
                current = latest.get(rule_file.name)
                if current is None or rule_file.effective_from > current.effective_from:
                    latest[rule_file.name] = rule_file
        return [latest[name] for name in sorted(latest)]


def rule_file_paths(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if "tests" not in p.relative_to(root).parts)


def load_layer(code: str, folder: Path) -> Layer:
    layer = Layer(code, tests_dir=folder / "tests" if (folder / "tests").is_dir() else None)
    seen: dict[tuple[str, date], str] = {}
    for path in rule_file_paths(folder):
        raw = load_yaml(path)
        if "parameters" in path.relative_to(folder).parts:
            for param in parse_parameter_file(raw, path):
                if code == NATIONAL and param.unit == "rate_card":
                    # CSSG 11.24-11.25: the cost of care is local; only a council publishes rates.
                    raise RuleFileError(path, None, f"{param.name}: a rate card is a council's own; national rules have none")
                if param.name in layer.parameters:
                    raise RuleFileError(path, None, f"parameter {param.name!r} is also defined in {layer.parameters[param.name].path}")
                layer.parameters[param.name] = param
        else:
            rule_file = parse_rule_file(raw, path)
            key = (rule_file.name, rule_file.effective_from)
            if key in seen:
                raise RuleFileError(path, None, f"{rule_file.name!r} from {rule_file.effective_from} is also in {seen[key]}")
            seen[key] = str(path)
            layer.rule_files.append(rule_file)
    return layer


@dataclass
class Library:
    national: Layer
    councils: dict[str, Layer]

    def codes(self) -> list[str]:
        return [NATIONAL, *sorted(self.councils)]

    def layers(self, council: str) -> list[Layer]:
        if council == NATIONAL:
            return [self.national]
        if council not in self.councils:
            raise UnknownCouncil(council, self.codes())
        return [self.national, self.councils[council]]

    def parameters(self, council: str) -> dict[str, ParameterDef]:
        merged = dict(self.national.parameters)
        for layer in self.layers(council)[1:]:
            for name, param in layer.parameters.items():
                merged[name] = merged[name].merged_with(param) if name in merged else param
        return merged

    def bundle(self, council: str, on: date) -> Bundle:
        files = [f for layer in self.layers(council) for f in layer.files_in_force(on)]
        resolved = {}
        for name, param in self.parameters(council).items():
            value = resolve(param, on)
            if value is not None:
                resolved[name] = value
        return Bundle(council, on, tuple(files), resolved)

    def check(self) -> None:
        """Checks across files: overlays do not redefine national rule sets, parameters exist,
        and every bundle at every effective date compiles within the engine's limits.

        The limits are counted for every bundle before any of them is compiled: registering a
        ruleset beyond them can hang the process, and the engine can never unregister one."""
        national_names = {f.name for f in self.national.rule_files}
        self.check_engine_limits()
        for code in self.codes():
            layers = self.layers(code)
            params = self.parameters(code)
            for layer in layers[1:]:
                for rule_file in layer.rule_files:
                    if rule_file.name in national_names:
                        raise RuleFileError(rule_file.path, None, f"{rule_file.name!r} is a national rule set; a council overlay adds its own rules")
            for layer in layers[1:]:
                check_floors(self.national.parameters, layer.parameters)
            dates = {f.effective_from for layer in layers for f in layer.rule_files}
            for layer in layers:
                for rule_file in layer.rule_files:
                    for name in sorted(rule_file.params_used()):
                        if name not in params:
                            raise RuleFileError(rule_file.path, None, f"unknown parameter {name!r}")
            for on in sorted(dates):
                self.bundle(code, on).check()

    def effective_dates(self, council: str) -> list[date]:
        return sorted({f.effective_from for layer in self.layers(council) for f in layer.rule_files})

    def check_engine_limits(self) -> None:
        """Every rule of every bundle (national plus overlay, on each date a rule file takes
        effect) within what the engine can run, and each council's own rules for a stage within
        one engine part (carebudget.rulebook.limits); the error names the file."""
        for code in self.codes():
            for on in self.effective_dates(code):
                layers = self.layers(code)
                for stage in vocab.STAGES:
                    for number, layer in enumerate(layers):
                        in_stage = [f for f in layer.files_in_force(on) if f.stage == stage]
                        rules = [r for f in in_stage for r in f.rules]
                        problems = stage_problems(rules, stage)
                        if number > 0:  # a council's overlay
                            problems += overlay_problems(rules, stage)
                        if problems:
                            raise RuleFileError(in_stage[-1].path, None, f"from {on}: " + "; ".join(problems))


def check_floors(national: dict[str, ParameterDef], overlay: dict[str, ParameterDef]) -> None:
    """Regs 6 and 7 set what a person must at least be left with: a council may leave more, never
    less. Each overlay value of a `floor` parameter is compared with the national figure in force
    on the day the overlay value takes effect (a later national figure supersedes it anyway)."""
    for name, param in overlay.items():
        base = national.get(name)
        if base is None or not base.floor:
            continue
        for entry in param.values:
            national_entry = base.at(entry.since)
            if entry.value is None or national_entry is None or national_entry.value is None:
                continue
            if Decimal(str(entry.value)) < Decimal(str(national_entry.value)):
                raise RuleFileError(param.path, entry.line, (
                    f"{name} from {entry.since}: £{Decimal(str(entry.value)):.2f} is below the national "
                    f"figure of £{Decimal(str(national_entry.value)):.2f} in force that day ({base.reference}, "
                    f"from {national_entry.since}); a council may leave people more than the national "
                    "minimum, never less"))


def load_library(root: Path) -> Library:
    national_dir = root / NATIONAL
    if not national_dir.is_dir():
        raise RuleFileError(root, None, f"no national rules folder {national_dir}")
    national = load_layer(NATIONAL, national_dir)
    councils: dict[str, Layer] = {}
    councils_dir = root / "councils"
    if councils_dir.is_dir():
        for folder in sorted(p for p in councils_dir.iterdir() if p.is_dir()):
            councils[folder.name] = load_layer(folder.name, folder)
    library = Library(national, councils)
    library.check()
    return library
