"""Rule-file changes a policy officer might upload, built from the real demo council files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml


def raised_bands(rules_dir: Path, since: date, uplift: int = 25) -> str:
    """demo's ras.yaml parameters with a new dated RAS table, every band `uplift` pounds higher."""
    data = yaml.safe_load(
        (rules_dir / "councils/demo/parameters/ras.yaml").read_text(encoding="utf-8")
    )
    bands = data["ras.bands"]
    latest = bands["values"][max(bands["values"])]
    table = [
        {
            **band,
            "weekly_low": band["weekly_low"] + (uplift if band["weekly_low"] else 0),
            "weekly_high": band["weekly_high"] + (uplift if band["weekly_high"] else 0),
        }
        for band in latest["value"]
    ]
    bands["values"][since] = {
        "source": "Demo BC Cabinet decision (test uplift)",
        "grade": "council",
        "value": table,
    }
    return yaml.safe_dump(data, sort_keys=False)


def broken_bands(rules_dir: Path, since: date) -> str:
    """A table where more need gives less money: the rules must refuse it."""
    data = yaml.safe_load(
        (rules_dir / "councils/demo/parameters/ras.yaml").read_text(encoding="utf-8")
    )
    bands = data["ras.bands"]
    latest = bands["values"][max(bands["values"])]
    table = [dict(band) for band in latest["value"]]
    table[-1]["weekly_low"], table[-1]["weekly_high"] = 5, 10
    bands["values"][since] = {"source": "typo", "grade": "council", "value": table}
    return yaml.safe_dump(data, sort_keys=False)
