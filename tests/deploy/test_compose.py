"""docker-compose.yml, tested as far as a machine without a Docker engine allows."""

from __future__ import annotations

import importlib
import re

import yaml

from carebudget.settings import REPO_ROOT, Settings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_compose_file_describes_the_whole_scale_out_deployment() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "worker", "web"} <= set(SERVICES)
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2
    assert SERVICES["temporal"]["environment"]["DB"].startswith("postgres")


def test_every_carebudget_variable_names_a_real_setting() -> None:
    fields = set(Settings.model_fields)
    for name, service in SERVICES.items():
        for key in service.get("environment", {}):
            if key.startswith("CAREBUDGET_"):
                assert key[len("CAREBUDGET_"):].lower() in fields, f"{name}: {key} is not a setting"


def test_every_dependency_names_a_service_and_every_named_volume_is_declared() -> None:
    for name, service in SERVICES.items():
        depends = service.get("depends_on", [])
        for dependency in (depends if isinstance(depends, list) else depends.keys()):
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in COMPOSE["volumes"], f"{name}: volume {source} not declared"


def test_the_commands_the_services_run_exist_in_the_code() -> None:
    assert SERVICES["worker"]["command"][-1] == "worker.py"
    assert (REPO_ROOT / "worker.py").is_file()
    factory = next(arg for arg in SERVICES["web"]["command"] if ":" in arg)
    module, attribute = factory.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_the_image_copies_everything_the_processes_import() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE))
    copied = {part for line in copied for part in line.split()}
    for needed in ("carebudget", "workflows", "activities", "worker.py", "rules", "migrations", "alembic.ini", "pyproject.toml"):
        assert needed in copied, needed
        assert (REPO_ROOT / needed).exists(), needed


def test_production_services_do_not_run_with_demo_users_or_the_default_secret() -> None:
    env = SERVICES["web"]["environment"]
    assert env["CAREBUDGET_ENVIRONMENT"] == "production"
    assert env["CAREBUDGET_CREATE_DEMO_USERS"] == "false"
    assert "${CAREBUDGET_SECRET_KEY" in env["CAREBUDGET_SECRET_KEY"]


def _published(service: dict) -> list[str]:  # type: ignore[type-arg]
    return [str(p) for p in service.get("ports", [])]


def test_only_the_web_service_is_published_on_the_network() -> None:
    for name, service in SERVICES.items():
        for port in _published(service):
            if name != "web":
                assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert SERVICES["web"]["ports"]
    assert "ports" not in SERVICES["temporal"] and "ports" not in SERVICES["postgresql"]


def test_the_database_temporal_and_workers_are_on_an_internal_network_only() -> None:
    networks = COMPOSE["networks"]
    for name in ("postgresql", "temporal", "temporal-search-attributes", "worker"):
        for network in SERVICES[name]["networks"]:
            assert networks[network]["internal"] is True, f"{name} is on {network}"
    for name in ("web", "temporal-ui"):  # they need Temporal: the internal network as well
        assert "internal" in SERVICES[name]["networks"]


def test_no_password_or_secret_is_written_in_the_file() -> None:
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|PWD|SECRET|_KEY", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}: {key}"
            if key.endswith("DATABASE_URL"):
                credentials = str(value).split("://", 1)[1].split("@", 1)[0]
                assert re.fullmatch(r"\w+:\$\{[A-Z_]+:\?[^}]+\}", credentials), f"{name}: {key}"


def test_every_long_running_service_has_a_healthcheck_and_waits_for_healthy_dependencies() -> None:
    for name in ("postgresql", "temporal", "worker", "web"):
        assert SERVICES[name]["healthcheck"]["test"], name
    for name in ("temporal", "worker", "web"):
        conditions = SERVICES[name]["depends_on"]
        assert all(c["condition"].startswith("service_") for c in conditions.values()), name


def test_the_services_get_the_settings_the_scale_test_proved() -> None:
    """tests/scale (make scale-test) runs every process with these settings; compose sets each,
    with the same task queue and namespace, and production where the test uses demo users."""
    from pathlib import Path

    from tests.scale.hosts import Cluster
    from tests.scale.netns import Host

    proved = Cluster(Path("/nonexistent"), Host("t", "10.0.0.1"), Host("p", "10.0.0.2"))
    tested = proved.settings(Host("w", "10.0.0.3"))
    for name in ("worker", "web"):
        env = SERVICES[name]["environment"]
        assert set(tested) - {"CAREBUDGET_HTTP_HOST", "CAREBUDGET_HTTP_PORT"} <= set(env), name
        for key in ("CAREBUDGET_TASK_QUEUE", "CAREBUDGET_TEMPORAL_NAMESPACE"):
            assert env[key] == tested[key], (name, key)
        assert env["CAREBUDGET_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2
    assert SERVICES["web"]["deploy"]["replicas"] >= 2


def test_postgresql_ends_sessions_a_lost_host_leaves_in_a_transaction() -> None:
    """make scale-test: a worker host cut off mid-write held the ledger lock for every writer."""
    command = " ".join(SERVICES["postgresql"]["command"])
    assert "idle_in_transaction_session_timeout=" in command
