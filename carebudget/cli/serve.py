"""`carebudget serve`: the Temporal dev server (unless CAREBUDGET_TEMPORAL_ADDRESS is set), the
case worker, and the web app, in one command; Ctrl-C or SIGTERM stops them all cleanly."""

from __future__ import annotations

import asyncio
import importlib
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import typer
from rich.console import Console

from carebudget.settings import Settings, get_settings

console = Console()
errors = Console(stderr=True, soft_wrap=True)


def _web_factory() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("carebudget.web.app")
    except ImportError:
        return None
    factory = getattr(module, "create_app", None)
    return factory if callable(factory) else None


SHUTDOWN_BUDGET = 6.0  # seconds for web and worker; Temporal gets 3 more: under 10 s in all


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    from carebudget.service import server, supervise

    web = _web_factory()
    ports: dict[str, int] = {}
    if settings.temporal_address is None:
        if (stale := supervise.stop_stale(settings)) is not None:
            console.print(f"Stopped a Temporal server left running by an earlier run (pid {stale}).")
        ports.update(temporal_port=settings.temporal_port, temporal_ui_port=settings.temporal_ui_port)
    if web is not None:
        ports["http_port"] = settings.http_port
    server.check_can_start(settings, ports)

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    supervisor = supervise.Supervisor(settings) if settings.temporal_address is None else None
    try:
        client = await server.wait_until_ready(
            settings.effective_temporal_address, settings.temporal_namespace,
            supervisor.process if supervisor else None,
        )
        await _run(settings, client, web, stop, supervisor)
    finally:
        if supervisor is not None:
            supervisor.stop()
    console.print("Stopped.")


async def _run(settings: Settings, client: Any, web: Callable[..., Any] | None, stop: asyncio.Event,
               supervisor: Any) -> None:
    """Web, worker, startup check and the Temporal watch until `stop`; then stop them in bounded time
    (a case whose step keeps retrying must not hold shutdown up)."""
    from worker import build_worker

    tasks: list[asyncio.Task[Any]] = []
    http: Any = None
    if web is not None:
        import uvicorn

        app = web(settings, temporal_client=client)
        http = uvicorn.Server(uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                                             log_level="warning"))
        http.install_signal_handlers = lambda: None  # we own SIGINT/SIGTERM
        tasks.append(asyncio.create_task(http.serve()))
    executor = ThreadPoolExecutor(max_workers=16)
    worker = build_worker(client, settings.task_queue, executor)
    running = asyncio.create_task(worker.run())
    background = [asyncio.create_task(_startup_check(client)), asyncio.create_task(_notice_relay(settings))]
    mail_sink = _start_mail_sink(settings)
    if supervisor is not None:
        background.append(asyncio.create_task(supervisor.watch()))
    _print_addresses(settings, supervisor is not None, web is not None)
    await stop.wait()
    console.print("Stopping: web, worker, then Temporal...")
    for task in background:
        task.cancel()
    if http is not None:
        http.should_exit = True
    try:
        await asyncio.wait_for(asyncio.gather(worker.shutdown(), *tasks, return_exceptions=True),
                               SHUTDOWN_BUDGET)
    except TimeoutError:
        console.print("Stopping: the worker did not finish in time; leaving its retries to Temporal.")
    running.cancel()
    await asyncio.gather(running, *background, return_exceptions=True)
    if mail_sink is not None:
        mail_sink.stop()
    executor.shutdown(wait=False, cancel_futures=True)


async def _startup_check(client: Any) -> None:
    """After a crash the store may be ahead of Temporal: repair it from the workflows' state."""
    from carebudget.service.reconcile import startup_check
    from carebudget.store import get_store

    repairs = await startup_check(client, get_store())
    changed = [r.case_id for r in repairs if r.changed]
    if changed:
        console.print(f"Reconciled {len(changed)} cases with their workflows: {', '.join(changed)}")


async def _notice_relay(settings: Settings) -> None:
    """Notices left in the outbox (mail server down, a crash mid-send) are sent again."""
    from carebudget.notices.outbox import relay
    from carebudget.store import get_store

    await relay(get_store(), settings)


def _start_mail_sink(settings: Settings) -> Any:
    """Development: a local SMTP server that keeps every notice for the web's Notices page."""
    if not (settings.is_development and settings.smtp_sink):
        return None
    from carebudget.notices import sink

    try:
        controller = sink.start(settings.smtp_host, settings.smtp_port, sink.mail_dir(settings.data_dir))
    except OSError as exc:
        console.print(f"Mail sink not started on {settings.smtp_host}:{settings.smtp_port} ({exc}); "
                      "notices wait in the outbox.")
        return None
    console.print(f"  Mail sink  smtp://{settings.smtp_host}:{settings.smtp_port} (read it at /notices)")
    return controller


def _print_addresses(settings: Settings, own_server: bool, web: bool) -> None:
    console.print("[bold green]carebudget is running[/]")
    console.print(f"  Temporal   {settings.effective_temporal_address}"
                  + (" (embedded dev server)" if own_server else ""))
    if own_server:
        console.print(f"  Temporal UI  {settings.temporal_ui_url}")
    console.print(f"  Task queue {settings.task_queue}")
    if web:
        console.print(f"  Web        http://{settings.http_host}:{settings.http_port}")
    console.print("Press Ctrl-C to stop.")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_command() -> None:
        """Start Temporal (embedded unless CAREBUDGET_TEMPORAL_ADDRESS is set), the worker and web."""
        from carebudget.service.server import StartupError

        try:
            asyncio.run(serve(get_settings()))
        except StartupError as exc:
            errors.print(f"[red]carebudget serve: {exc}[/]")
            raise typer.Exit(2) from None
