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
