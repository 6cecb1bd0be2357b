"""Letters from the council's own templates: HTML through a sandboxed Jinja2, PDF through WeasyPrint.

Templates live with the rules, so a council changes its letters the way it changes its policy:
rules/councils/<code>/letters/<kind>.html.j2 wins over rules/england/letters/<kind>.html.j2, and
likewise for the shared `layout.html.j2` and `letterhead.html.j2`. Each letter names the template
it used and the sha256 of the whole set of letter templates in force, so it can be traced to the
exact wording that produced it. Templates run sandboxed: a template can format what it is given,
never reach the file system or the service.

A letter is issued as HTML (its sha256 on the ledger), inside the step that decided it. Its PDF
is printed from that stored HTML when it is first asked for (`to_pdf`, `Store.letter_pdf`): the
printing costs several times the rest of a step, and most letters are read on screen or by mail.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from carebudget.letters.content import LetterContent

SUFFIX = ".html.j2"


class LetterTemplateError(ValueError):
    """A letter template is missing or fails to render: the letter cannot be issued as it is."""


@dataclass(frozen=True)
class RenderedLetter:
    kind: str
    html: str
    template: str  # the kind's template, relative to the rules folder
    template_sha256: str  # of every letter template in force for the council


def folders(rules_root: Path, council: str) -> list[Path]:
    """Where the council's letter templates are looked for, the council's own first."""
    return [rules_root / "councils" / council / "letters", rules_root / "england" / "letters"]


def template_set_sha256(rules_root: Path, council: str) -> str:
    """sha256 over the name and text of each template in force (the council's over the national)."""
    chosen: dict[str, Path] = {}
    for folder in reversed(folders(rules_root, council)):
        if folder.is_dir():
            chosen.update({p.name: p for p in folder.glob(f"*{SUFFIX}")})
    digest = hashlib.sha256()
    for name in sorted(chosen):
        digest.update(name.encode() + b"\0" + chosen[name].read_bytes() + b"\0")
    return digest.hexdigest()


def money(value: Any) -> str:
    """£1,234.50: two places, thousands separated."""
    try:
        return f"£{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def long_date(value: Any) -> str:
    """2 December 2026."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return str(value)
    return f"{value.day} {value:%B %Y}"


def figure(name: str, value: Any) -> Markup:
    """An amount, marked with where it came from, so a reader (or a test) can check it."""
    return Markup('<data class="figure" data-figure="{}" value="{}">{}</data>').format(
        name, f"{Decimal(str(value)):.2f}", money(value))


_ENVIRONMENTS: OrderedDict[tuple[str, str, str], SandboxedEnvironment] = OrderedDict()
_ENVIRONMENTS_KEPT = 32
_ENVIRONMENTS_LOCK = threading.Lock()


def _environment(rules_root: Path, council: str, template_set: str) -> SandboxedEnvironment:
    """One environment per rules folder, council and set of templates in force (`template_set`,
    their sha256), kept with the templates it compiled: any change of wording, or a council's own
    template added, is a new set and so a new environment from the next letter on."""
    key = (str(rules_root), council, template_set)
    with _ENVIRONMENTS_LOCK:
        env = _ENVIRONMENTS.get(key)
        if env is None:
            env = _ENVIRONMENTS[key] = _new_environment(rules_root, council)
            while len(_ENVIRONMENTS) > _ENVIRONMENTS_KEPT:
                _ENVIRONMENTS.popitem(last=False)
        _ENVIRONMENTS.move_to_end(key)
        return env


def _new_environment(rules_root: Path, council: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders(rules_root, council)]),
        autoescape=select_autoescape(default=True, default_for_string=True, enabled_extensions=("j2", "html")),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(money=money, long_date=long_date, escape=escape)
    env.globals.update(figure=figure)
    return env


def render_html(content: LetterContent, rules_root: Path, template_set: str | None = None) -> tuple[str, str]:
    """The letter's HTML and the template (path under the rules folder) it came from;
    `template_set` is `template_set_sha256` of the folder, when the caller has it already."""
    template_set = template_set or template_set_sha256(rules_root, content.council)
    env = _environment(rules_root, content.council, template_set)
    name = content.kind + SUFFIX
    try:
        template = env.get_template(name)
        html = template.render(**content.as_context())
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # Whatever a template's own expressions raise ({{ 1 / 0 }}, {{ "a" + 1 }}) is the
        # template's fault, and the same every time: refused in words, never retried.
        raise LetterTemplateError(
            f"the {content.kind.replace('_', ' ')} letter template of council {content.council!r} "
            f"cannot be used: {type(exc).__name__}: {exc}") from None
    path = Path(template.filename or name).resolve()
    try:
        shown = str(path.relative_to(rules_root.resolve()))
    except ValueError:
        shown = name
    return html, shown


def to_pdf(html: str) -> bytes:
    """A4 PDF of the letter; only the letter's own HTML and CSS, nothing fetched from anywhere."""
    from weasyprint import HTML

    def refuse(url: str) -> dict[str, Any]:
        raise ValueError(f"a letter may not load {url!r}")

    pdf = HTML(string=html, url_fetcher=refuse).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def render_letter(content: LetterContent, rules_root: Path) -> RenderedLetter:
    """The letter as issued: its HTML (the PDF is printed from it when first asked for)."""
    template_set = template_set_sha256(rules_root, content.council)
    html, template = render_html(content, rules_root, template_set)
    return RenderedLetter(kind=content.kind, html=html, template=template, template_sha256=template_set)
