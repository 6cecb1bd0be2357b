"""Every address, path and secret the service uses, from CAREBUDGET_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-secret-change-me"
# Signs the ledger's heads, checkpoints and exported anchors (HMAC-SHA256). Anyone holding it can
# re-sign a rewritten chain, so outside development it must be a long random value of its own.
DEFAULT_LEDGER_KEY = "dev-ledger-key-change-me"
MIN_LEDGER_KEY_LENGTH = 32
# Development only: a fixed key so a laptop's processes read each other's Temporal payloads.
# Outside development the service refuses to start with it (carebudget.service.codec).
DEV_PAYLOAD_KEYS = "dev-1:ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LWZvci11c2U="
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAREBUDGET_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development or production")
    data_dir: Path = Path("./var")
    rules_dir: Path = REPO_ROOT / "rules"
    database_url: str | None = None

    temporal_address: str | None = None
    temporal_host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "carebudget-cases"
    # `carebudget serve` runs the case worker in its own process unless this is false; then run
    # `python worker.py` (one or more) beside it, so a worker can be restarted on its own.
    serve_worker: bool = True
    # serve and workers reconcile the store with Temporal this long after they start, and serve
    # again after restarting its Temporal server: steps in flight have this long to finish first.
    reconcile_grace_s: float = Field(30.0, ge=0)

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    secret_key: str = DEFAULT_SECRET
    payload_keys: str = Field(
        DEV_PAYLOAD_KEYS,
        description="AES-256 keys for Temporal payloads, 'id:base64,...'; the first seals new payloads",
    )
    create_demo_users: bool = True
    public_url: str | None = None
    # The command line acts through the web API with a token from `carebudget login`, kept in
    # `token_file` (0600; default <config dir>/carebudget/token). CAREBUDGET_TOKEN gives a token
    # directly instead (e.g. in a script), CAREBUDGET_API_URL the service to talk to.
    api_url: str | None = None
    token: str | None = Field(None, repr=False)
    token_file: Path | None = None

    # Notices by email (issue 13): the outbox is sent through this SMTP server. In development
    # `carebudget serve` starts a local sink on smtp_host:smtp_port that keeps every message under
    # <data_dir>/mail for staff to read in the web (Notices); elsewhere point it at the council's.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(8025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(10.0, gt=0)
    smtp_from: str = "Adult Social Care <care@carebudget.invalid>"
    smtp_sink: bool = Field(True, description="development: start the local SMTP sink with `serve`")
    # Where a user's notices go: the username put into this pattern (a council maps its own).
    notice_address: str = "{username}@carebudget.invalid"
    # The person is reminded this many days before a counter-proposal's appeal window closes.
    appeal_reminder_days: int = Field(7, ge=0, le=365)

    ledger_key: str = DEFAULT_LEDGER_KEY
    # Keys used before a rotation: checkpoints and anchors they signed still verify.
    ledger_previous_keys: list[str] = []
    ledger_checkpoint_every: int = Field(1000, ge=1, description="rows of a chain between automatic checkpoints")
    # A policy change is loaded and run in a child process under these limits before anything
    # else looks at it (carebudget.rulebook.vetting); vetting the shipped rules takes about 1 s.
    vetting_timeout_s: float = Field(60.0, gt=0)
    vetting_memory_mb: int = Field(1024, ge=64)
    # A what-if of this many cases or more is decided in the pool of worker processes
    # (carebudget.policy.whatif_pool); fewer are decided on the calling thread.
    whatif_pool_from_cases: int = Field(2_000, ge=1)

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    def ledger_key_problem(self) -> str | None:
        """Why the ledger key must not be used here, in plain words; None when it is fine."""
        if self.is_development:
            return None
        if self.ledger_key == DEFAULT_LEDGER_KEY:
            return "CAREBUDGET_LEDGER_KEY is the default development key; set a long random value"
        if len(self.ledger_key) < MIN_LEDGER_KEY_LENGTH or len(set(self.ledger_key)) < 10:
            return (f"CAREBUDGET_LEDGER_KEY is too weak: use at least {MIN_LEDGER_KEY_LENGTH} random "
                    "characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
        return None

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'carebudget.db').resolve()}"

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"{self.temporal_host}:{self.temporal_port}"

    @property
    def effective_api_url(self) -> str:
        return (self.api_url or self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{self.temporal_host}:{self.temporal_ui_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # every field has a default; values come from the environment
