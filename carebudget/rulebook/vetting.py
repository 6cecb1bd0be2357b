"""Before a council's rule change can be published: load, compile and run it in a child process.

durable_rules can hang, fail or crash the process on rules it accepts (carebudget.rulebook.limits
has the measured figures), and a ruleset once registered can never be removed. So a candidate
rule set is never compiled in the serving process first: `vet_in_subprocess` runs `vet` in a
child with a memory, processor-time and wall-clock limit. The child loads the library from the
candidate folder (bounded YAML, the whole-stage engine limits, every bundle compiled) and then
evaluates a generated caseload under the council's bundle on every date a rule file takes effect,
today and a year on: every stage, so every decision kind, with each fact at the values the rules
compare it with, on either side, and at both extremes (so every rule that can hold does hold).

Run as `python -m carebudget.rulebook.vetting RULES_DIR COUNCIL [--memory-mb N --cpu-s N]`;
it prints the problems found as one JSON list (empty: passed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from carebudget.rulebook import vocabulary as vocab
from carebudget.rulebook.registry import NATIONAL_FOLDER
from carebudget.rulebook.rules import Compare, Condition

CASES_PER_STAGE = 200
_HUGE = 10**9  # beyond any amount or count in the rules: every "greater than" holds


def vet(root: Path, council: str) -> list[str]:
    """Problems with the rules under `root` for `council`, in plain words (runs in the child)."""
    from carebudget.rulebook.engine import EngineError, get_engine
    from carebudget.rulebook.library import load_library
    from carebudget.rulebook.parameters import MissingParameter
    from carebudget.rulebook.yamlsource import RuleFileError

    try:
        library = load_library(root)
        library.layers(council)
    except (RuleFileError, LookupError) as exc:
        return [str(exc).replace(str(root), "rules")]
    today = date.today()
    dates = sorted({*library.effective_dates(council), today, today + timedelta(days=365)})
    engine = get_engine()
    for on in dates:
        bundle = library.bundle(council, on)
        for stage in vocab.STAGES:
            compiled = bundle.compiled(stage)
            try:
                params = bundle.param_fields(compiled)
            except MissingParameter:
                continue  # a decision that day is refused for the missing figure; nothing runs
            for number, facts in enumerate(caseload(stage, compiled.rules, compiled.fields)):
                try:
                    engine.evaluate(compiled, {**facts, **params})
                except (EngineError, MemoryError) as exc:
                    return [(
                        f"the rules engine fails on the {stage} rules in force from {on} "
                        f"(generated case {number + 1}): {exc}"
                    )]
    return _letters(root, sorted(library.councils) if council == NATIONAL_FOLDER else [council])


def _letters(root: Path, councils: list[str]) -> list[str]:
    """Every letter of every council the change reaches, rendered from the candidate templates
    (carebudget.letters.samples): a template is council policy too."""
    from carebudget.letters.samples import check_templates

    return [p.replace(str(root), "rules") for c in councils for p in check_templates(root, c)]


def caseload(stage: str, rules: tuple[Any, ...], fields: frozenset[str]) -> Iterator[dict[str, Any]]:
    """Flat facts for one stage: extremes, each compared value and its neighbours, then a mix."""
    kinds = {name: kind for name, kind in vocab.STAGE_FACTS[stage].items() if name in fields}
    compared: dict[str, set[float]] = {name: set() for name, kind in kinds.items() if kind == vocab.NUMBER}
    for rule in rules:
        for test in _compares(rule.when):
            if test.fact in compared and isinstance(test.value, (int, float)):
                value = float(test.value)
                compared[test.fact] |= {value - 1, value, value + 1}

    def choices(name: str) -> list[Any]:
        kind = kinds[name]
        if kind == vocab.BOOL:
            return [False, True]
        if kind == vocab.NUMBER:
            return sorted({0.0, float(_HUGE), *compared[name]})
        return list(kind)  # type: ignore[call-overload]

    low = {name: choices(name)[0] for name in kinds}
    high = {name: choices(name)[-1] for name in kinds}
    yield low
    yield high
    count = 2
    for name in kinds:
        for value in choices(name):
            for base in (low, high):
                if count >= CASES_PER_STAGE // 2:
                    break
                count += 1
                yield {**base, name: value}
    mix = random.Random(f"{stage}:{len(rules)}")
    for _ in range(CASES_PER_STAGE - count):
        yield {name: mix.choice(choices(name)) for name in kinds}


def _compares(cond: Condition) -> Iterator[Compare]:
    if isinstance(cond, Compare):
        yield cond
    else:
        for item in cond.items:
            yield from _compares(item)


def vet_in_subprocess(rules_root: Path, council: str, *, timeout_s: float, memory_mb: int) -> list[str]:
    """`vet` in a child process under limits; whatever happens to the child, a sentence back."""
    command = [
        sys.executable, "-m", "carebudget.rulebook.vetting", str(rules_root), council,
        "--memory-mb", str(memory_mb), "--cpu-s", str(math.ceil(timeout_s)),
    ]
    # A session of its own, so a wall-clock timeout kills the child and anything it started.
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        out, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        return [(
            f"checking these rules did not finish within {timeout_s:g} seconds: the rules engine "
            "hangs on them; make the change smaller or split it"
        )]
    return _outcome(child.returncode, out, err, memory_mb)


def _kill_group(child: subprocess.Popen[str]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.communicate()


def _outcome(code: int, out: str, err: str, memory_mb: int) -> list[str]:
    if code == 0:
        try:
            problems = json.loads(out.strip().splitlines()[-1])
            if isinstance(problems, list):
                return [str(p) for p in problems]
        except (IndexError, ValueError):
            pass
        return ["checking these rules gave no answer; ask for the service log"]
    if "MemoryError" in err or "bad_alloc" in err:
        return [(
            f"checking these rules needed more than {memory_mb} MB of memory: the rules engine "
            "cannot run them"
        )]
    if code == -signal.SIGXCPU:
        return ["checking these rules used too much processor time: the rules engine hangs on them"]
    if code < 0:
        name = signal.Signals(-code).name
        return [f"the rules engine crashed on these rules ({name}); they cannot be used"]
    last = err.strip().splitlines()[-1] if err.strip() else f"exit code {code}"
    return [f"checking these rules failed: {last}"]


def _limit(memory_mb: int, cpu_s: int) -> None:
    """Set in the child itself, before any rule is read: `preexec_fn` is unsafe in the threaded
    web process that starts it."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    # Checking is background work: at a lower priority, several uploads checked at once cannot
    # starve the service that started them (a fresh-clone run saw reads' p95 reach 0.88 s while
    # six hostile uploads were checked on two cores).
    os.nice(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carebudget.rulebook.vetting")
    parser.add_argument("rules_root", type=Path)
    parser.add_argument("council")
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--cpu-s", type=int, default=60)
    args = parser.parse_args(argv)
    _limit(args.memory_mb, args.cpu_s)
    print(json.dumps(vet(args.rules_root, args.council)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
