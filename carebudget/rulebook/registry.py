"""The rule files in force in a running process, reloaded when they change, without restart.

The shipped rules folder is read-only input. Published policy versions (kept in the store, read
through a `VersionSource`) are layered over it: each version's file replaces or adds the file of
the same path in the council's folder, in an effective folder of this process's own. Every
process polls the source, so a publish reaches web and worker processes on any machine within
seconds. A change is checked as a whole snapshot: if any file fails to parse or validate it is
refused with file, line and reason, and the previous snapshot stays in force.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date
from pathlib import Path
from typing import Protocol

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.library import Library, load_library, rule_file_paths
from carebudget.rulebook.yamlsource import RuleFileError

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
NATIONAL_FOLDER = "england"


class VersionSource(Protocol):
    """Published policy versions, as (council, path, content) of the newest version of each file."""

    key: str  # identifies the source (the database), so registries are shared per source

    def token(self) -> Hashable: ...

    def files(self) -> list[tuple[str, str, str]]: ...


def layer_folder(rules_root: Path, council: str) -> Path:
    return rules_root / NATIONAL_FOLDER if council == NATIONAL_FOLDER else rules_root / "councils" / council


def materialise(shipped: Path, files: list[tuple[str, str, str]], into: Path) -> Path:
    """Write the shipped rules with the given files layered over them into `into`/rules."""
    root = into / "rules"
    shutil.copytree(shipped, root, ignore=shutil.ignore_patterns(".*"))
    for council, path, content in files:
        target = layer_folder(root, council) / path
        if not target.resolve().is_relative_to(root.resolve()):
            raise RuleFileError(path, None, "a policy file must stay inside its council's folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


def fingerprint(root: Path) -> Fingerprint:
    entries = []
    for path in rule_file_paths(root):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class Registry:
    def __init__(
        self, root: Path, poll_seconds: float = 0.2, source: VersionSource | None = None,
        source_poll_seconds: float = 1.0,
    ) -> None:
        self.root = Path(root)
        self.poll_seconds = poll_seconds
        self.source = source
        self.source_poll_seconds = source_poll_seconds
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._source_checked_at = 0.0
        self._source_token: Hashable = None
        self._fingerprint: tuple[Fingerprint, Hashable] = ((), None)
        self._effective: Path | None = None  # the folder of the snapshot in force (with versions)
        self._retired: list[Path] = []  # earlier folders, removed once two newer ones exist
        self._library: Library | None = None
        self._bundles: dict[tuple[str, date], Bundle] = {}
        # Every bundle handed out recently, by hash, kept across reloads: a decision's record may
        # be written after the rule files changed, and must still store the content it was made under.
        self._known: OrderedDict[str, Bundle] = OrderedDict()
        self.refused: RuleFileError | None = None
        self.refresh(force=True)

    @property
    def library(self) -> Library:
        self.refresh()
        assert self._library is not None
        return self._library

    @property
    def effective_root(self) -> Path:
        """The folder the rules in force were loaded from (the shipped folder when no versions)."""
        self.refresh()
        return self._effective or self.root

    def _token(self, now: float, force: bool) -> Hashable:
        if self.source is None:
            return None
        if force or now - self._source_checked_at >= self.source_poll_seconds:
            self._source_checked_at = now
            self._source_token = self.source.token()
        return self._source_token

    def refresh(self, force: bool = False) -> bool:
        """Reload if any rule file or published version changed; True when a new snapshot came
        into force."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.poll_seconds:
            return False
        with self._lock:
            self._checked_at = now
            current = (fingerprint(self.root), self._token(now, force))
            if current == self._fingerprint and self._library is not None:
                return False
            previous = self._effective
            try:
                library, effective = self._load()
            except RuleFileError as exc:
                self._fingerprint = current  # do not re-read the same broken files every call
                self.refused = exc
                log.error("rule change refused, previous rules stay in force: %s", exc)
                if self._library is None:
                    raise
                return False
            self._library, self._effective = library, effective
            self._fingerprint = current
            self._bundles = {}
            self.refused = None
            if previous is not None and previous != effective:
                # A reader may still hold the previous snapshot for a moment: keep one back.
                self._retired.append(previous)
                while len(self._retired) > 1:
                    shutil.rmtree(self._retired.pop(0).parent, ignore_errors=True)
            return True

    def _load(self) -> tuple[Library, Path | None]:
        files = self.source.files() if self.source is not None else []
        if not files:
            return load_library(self.root), None
        folder = Path(tempfile.mkdtemp(prefix="carebudget-rules-"))
        try:
            effective = materialise(self.root, files, folder)
            return load_library(effective), effective
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def bundle(self, council: str, on: date) -> Bundle:
        library = self.library
        key = (council, on)
        bundle = self._bundles.get(key)
        if bundle is None:
            bundle = library.bundle(council, on)
            if len(self._bundles) > 4096:
                self._bundles.clear()
            self._bundles[key] = bundle
            self._known[bundle.hash] = bundle
            self._known.move_to_end(bundle.hash)
            while len(self._known) > 256:
                self._known.popitem(last=False)
        return bundle

    def known_bundle(self, bundle_hash: str) -> Bundle | None:
        """A bundle this process decided under recently (even if the files have since changed)."""
        return self._known.get(bundle_hash)


_registries: dict[tuple[str, str | None], Registry] = {}
_registries_lock = threading.Lock()
_default: Registry | None = None


def get_registry(root: Path | None = None, source: VersionSource | None = None) -> Registry:
    """The registry for `root` (by default the configured rules folder, CAREBUDGET_RULES_DIR),
    with the published versions of `source` layered over it; one per process for each pair."""
    global _default
    if root is None and source is None:
        if _default is None:
            from carebudget.settings import get_settings

            _default = get_registry(Path(get_settings().rules_dir))
        return _default
    folder = str(Path(root if root is not None else _default_root()).resolve())
    key = (folder, source.key if source is not None else None)
    with _registries_lock:
        registry = _registries.get(key)
        if registry is None:
            registry = _registries[key] = Registry(Path(folder), source=source)
    return registry


def _default_root() -> Path:
    from carebudget.settings import get_settings

    return Path(get_settings().rules_dir)
