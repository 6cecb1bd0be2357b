"""The CLI's Rich consoles. On a terminal Rich fits tables to the window; when output goes to a
pipe, a file or a script it would assume 80 columns and cut cells ("C-202612..."), so there the
width is generous and nothing a script reads (a case id, a username) is shortened."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

PIPE_WIDTH = 400


def make_console(stderr: bool = False, **options: Any) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if not stream.isatty() and "COLUMNS" not in os.environ:
        options.setdefault("width", PIPE_WIDTH)
    return Console(stderr=stderr, **options)
