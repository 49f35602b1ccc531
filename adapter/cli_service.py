"""The service's commands: ``serve``, ``worker``, ``token``, ``outbox``, ``nhn poll`` and ``examples run``."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.security import SCOPES
from adapter.store.sql import StoreUnavailable, redact


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def _service(settings: Settings) -> Any:
    from adapter.service import Service

    with _setup_errors(settings):
        return Service(settings)


def _operator_store(settings: Settings) -> Any:
    """The store an operator command works on. A SQLite file that does not exist is an error (a mistyped
    SAMHANDLING_DATA_DIR would otherwise show an empty outbox), not a new store."""
    from adapter.store import open_store

    missing = settings.missing_store()
    if missing:
        click.echo(missing, err=True)
        sys.exit(2)
    with _setup_errors(settings):
        return open_store(settings.store_url, timeout=settings.database_timeout)


@contextlib.contextmanager
def _setup_errors(settings: Settings) -> Iterator[None]:
    """Exit 2 with one line, not a traceback, when the setup is broken or the database cannot be reached."""
    from adapter.store import database_errors

    try:
        yield
    except AdapterError as error:
        for issue in error.issues:
            if issue.code == "ADP-0013":  # the store cannot know which command opened it
                command = " ".join(["samhandling", *click.get_current_context().command_path.split()[1:]])
                issue = Issue("ADP-0013", "fatal", args={**issue.args, "command": command})
            click.echo(f"{issue.code}: {issue.text_en}", err=True)
        sys.exit(2)
    except database_errors() as exc:
        setup = exc.setup if isinstance(exc, StoreUnavailable) else None  # the server refuses this service: ADP-0015
        text = f"the database {redact(settings.store_url)} cannot be used: {' '.join(str(exc).split())}"
        click.echo(f"{setup.code}: {setup.text_en}" if setup else text, err=True)
        sys.exit(2)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="gunicorn worker processes.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1), help="Threads per worker process.")
@click.option(
    "--demo",
    is_flag=True,
    help="Run the demo token issuer, route by examples/service/routes.yaml (unless SAMHANDLING_ROUTES_FILE is "
    "set) and load the examples into the store.",
)
@click.option("--no-delivery", is_flag=True, help="Do not run the outbox worker here (run `samhandling worker`).")
@click.option(
    "--allow-empty-routes",
    is_flag=True,
    help="Start without a route (messages are stored and answered, never forwarded); without it, and without "
    "--demo, serve refuses to start with an empty routing table.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    demo: bool,
    no_delivery: bool,
    allow_empty_routes: bool,
) -> None:
    """Run the FHIR and KITH service (gunicorn; SQLite in SAMHANDLING_DATA_DIR unless SAMHANDLING_DATABASE_URL
    names a PostgreSQL database). Each worker process also delivers the outbox unless --no-delivery. Without
    --demo it is production: it refuses to start (exit 2) without token keys (SAMHANDLING_TOKEN_KEYS_FILE or
    SAMHANDLING_TOKEN_JWKS_URL) or with no routes (SAMHANDLING_ROUTES_FILE) unless --allow-empty-routes."""
    with _metrics_folder():
        _serve(_settings(ctx), host, port, workers, threads, demo, no_delivery, allow_empty_routes)


@contextlib.contextmanager
def _metrics_folder() -> Iterator[None]:
    """A private folder (0700) for prometheus-client's multiprocess mode while ``serve`` runs, so that a scrape of
    any gunicorn worker answers the sum over all; removed (and the variable restored) at the end. Only when
    prometheus-client is not imported yet (it reads the variable then): in a process that already uses it (tests),
    each worker reports its own."""
    from adapter.config import metrics_multiprocess_dir, use_metrics_multiprocess_dir

    if "prometheus_client" in sys.modules:
        yield
        return
    before = metrics_multiprocess_dir()
    folder = tempfile.mkdtemp(prefix="samhandling-metrics-")
    use_metrics_multiprocess_dir(folder)
    try:
        yield
    finally:
        use_metrics_multiprocess_dir(before)
        shutil.rmtree(folder, ignore_errors=True)


def _serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    threads: int,
    demo: bool,
    no_delivery: bool,
    allow_empty_routes: bool,
) -> None:
    from gunicorn.app.base import BaseApplication

    _refuse_unbindable(host, port)  # before anything is loaded: the examples of --demo too
    if demo:  # the demo issuer, and the demo routing table unless one is configured
        routes = settings.routes_file or str(settings.examples_dir / "service" / "routes.yaml")
        settings = dataclasses.replace(settings, demo_issuer=True, routes_file=routes)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _json_access_log()
    service = _service(settings)
    if not demo:
        with _setup_errors(settings):
            _refuse_production_gaps(service, allow_empty_routes)
    else:
        answers = service.load_examples()
        loaded = sum(1 for _, reply in answers if reply.status == 200)
        click.echo(f"demo: {loaded} of {len(answers)} example messages in the store", err=True)
        click.echo(
            f"demo: a token: samhandling token --org 8100001 --scope samhandling/plans.read   "
            f"(then: curl -H 'Authorization: Bearer <token>' http://{host}:{port}/CarePlan)",
            err=True,
        )
    service.store.close()
    options = _gunicorn_options(f"{host}:{port}", workers, threads)

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints: its base is Any
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from adapter.api import create_app
            from adapter.service import Service

            process_service = Service(settings)
            if not no_delivery:
                process_service.worker().start()
            return create_app(service=process_service)

    Server().run()


def _json_access_log() -> None:
    """The ``samhandling.access`` lines (one JSON object each) on stderr as they are, without the log prefix."""
    access = logging.getLogger("samhandling.access")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def _refuse_unbindable(host: str, port: int) -> None:
    """Exit 2 with one line when gunicorn could not listen at host:port (tried with its socket class, closed)."""
    from gunicorn import config, sock, util

    address = util.parse_address(f"{host}:{port}")

    class Trial(sock.TCP6Socket if util.is_ipv6(address[0]) else sock.TCPSocket):  # type: ignore[misc]
        def bind(self, raw: Any) -> None:  # gunicorn leaves a socket it could not bind open (it exits then)
            with contextlib.ExitStack() as unbound:
                unbound.callback(raw.close)
                super().bind(raw)
                unbound.pop_all()

    try:
        Trial(address, config.Config(), logging.getLogger("gunicorn.error")).close()
    except (OSError, RuntimeError) as exc:  # RuntimeError: gunicorn's word for an address it cannot parse
        click.echo(f"serve cannot listen at {host}:{port}: {getattr(exc, 'strerror', None) or exc}", err=True)
        sys.exit(2)


def _gunicorn_options(bind: str, workers: int, threads: int) -> dict[str, Any]:
    """gunicorn's settings for ``serve``. Its own X-Forwarded-Proto handling (trusted from 127.0.0.1 by default) is
    off: the app takes X-Forwarded-* only from the proxies ``SAMHANDLING_TRUSTED_PROXIES`` counts (ProxyFix). Its
    access log is off too (its lines hold the whole URL, query string and all): the app writes its own JSON lines.
    Its worker is gthread with OperationOutcomes for the errors gunicorn answers itself (adapter.api.server_errors)."""
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "adapter.api.server_errors.OutcomeThreadWorker",
        "accesslog": None,
        "graceful_timeout": 10,
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "control_socket_disable": True,  # else one control socket in $HOME for every gunicorn of the user (25.1+)
    }


def _refuse_production_gaps(service: Any, allow_empty_routes: bool) -> None:
    """SetupError ADP-0009 when a production service (no ``--demo``) would refuse every caller (no token keys: no
    SAMHANDLING_TOKEN_KEYS_FILE, no SAMHANDLING_TOKEN_JWKS_URL and no demo issuer) or forward nothing (an empty
    routing table) without being told to (``--allow-empty-routes``)."""
    from adapter.errors import Issue, SetupError

    settings = service.settings
    unset: list[str] = []
    why_en: list[str] = []
    why_nb: list[str] = []
    if not settings.token_keys_file and not settings.token_jwks_url and not settings.demo_issuer:
        unset.append("SAMHANDLING_TOKEN_KEYS_FILE (or SAMHANDLING_TOKEN_JWKS_URL)")
        why_en.append("no token keys, so every request would be refused (401)")
        why_nb.append("ingen tokennøkler, så alle forespørsler ville bli avvist (401)")
    if not allow_empty_routes and not service.routes.routes and service.routes.fallback is None:
        unset.append("SAMHANDLING_ROUTES_FILE")
        why_en.append("no routes, so no message would be forwarded (give --allow-empty-routes if that is meant)")
        why_nb.append(
            "ingen ruter, så ingen meldinger ville bli sendt videre (gi --allow-empty-routes om det er ment slik)"
        )
    if unset:
        args = {"settings": " and ".join(unset), "detail_en": "; ".join(why_en), "detail_nb": "; ".join(why_nb)}
        raise SetupError([Issue("ADP-0009", "fatal", args=args)])


@click.command("worker")
@click.option("--once", is_flag=True, help="One round, then exit (scripts and tests).")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Deliver the outbox (and process messages accepted asynchronously) until stopped with SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = _service(_settings(ctx))
    runner = service.worker()
    if once:
        click.echo(f"{runner.run_once()} deliveries attempted")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        runner.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


@click.command("token")
@click.option("--org", metavar="HERID", help="The caller's organisation (HER-id).")
@click.option(
    "--person",
    metavar="FNR",
    help="Instead of --org: a person's token (scope samhandling/person) for this fødselsnummer or D-nummer, "
    "as ID-porten's through the gateway; for the person's own page, /meg.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="A scope (repeat, or space-separated; required with --org): " + ", ".join(sorted(SCOPES)) + ".",
)
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(min=1), help="Lifetime in seconds.")
@click.pass_context
def token(ctx: click.Context, org: str | None, person: str | None, scopes: tuple[str, ...], ttl: int) -> None:
    """Print a bearer token from the demo issuer: an organisation's (--org, --scope) or a person's (--person).
    Refused (exit 2) unless the demo issuer is configured: SAMHANDLING_DEMO_ISSUER=true, or `serve --demo` has
    created its key in the data folder."""
    from adapter.security import DemoIssuer

    if (org is None) == (person is None):
        raise click.UsageError("give either --org (with --scope) or --person")
    if org is not None and not scopes:
        raise click.UsageError("--org needs at least one --scope")
    if person is not None and scopes:
        raise click.UsageError("a person's token has the scope samhandling/person only; give no --scope")

    settings = _settings(ctx)
    if not settings.demo_issuer and not (settings.data_dir / DemoIssuer.KEY_FILE).exists():
        click.echo(
            "no demo issuer is configured here: run `samhandling serve --demo` first, or set "
            "SAMHANDLING_DEMO_ISSUER=true; production tokens come from your identity provider",
            err=True,
        )
        sys.exit(2)
    issuer = DemoIssuer(settings.data_dir, settings.token_issuer, settings.token_audience)
    try:
        if person is not None:
            click.echo(issuer.issue_person(person, ttl_seconds=ttl))
        else:
            click.echo(issuer.issue(str(org), [s for group in scopes for s in group.split()], ttl_seconds=ttl))
    except ValueError as exc:  # an unknown scope, an org that is no HER-id, a person's number with bad digits
        raise click.BadParameter(str(exc)) from exc


@click.group("outbox")
def outbox() -> None:
    """See and retry the outbox (deliveries to receivers), dead letters included."""


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "delivered", "dead", "withdrawn"]), help="Only this state.")
@click.pass_context
def outbox_list(ctx: click.Context, state: str | None) -> None:
    """One line per delivery: id, state, attempts, message id (as the delivered message names itself, so as its
    receipt names it), destination, the receiver's application receipt
    (ok, ok-with-errors or rejected with its error codes; OVERDUE when none came within receipt_deadline_hours)
    and the last error."""
    settings = _settings(ctx)
    store = _operator_store(settings)
    with _setup_errors(settings):
        rows = store.run(lambda tx: tx.deliveries(state))
    now = datetime.datetime.now(datetime.UTC)
    overdue = 0
    for row in rows:
        receipt = receipt_column(row, now, settings.receipt_deadline_hours)
        overdue += receipt.startswith("OVERDUE")
        error = f"  {row.last_error}" if row.last_error else ""
        named = row.answer_id or row.msg_id
        line = f"{row.id:>6}  {row.state:<9} {row.attempts:>3}  {named}  {row.destination}  {receipt}{error}"
        click.echo(line)
    click.echo(f"{len(rows)} deliveries" + (f", {overdue} without a receipt in time" if overdue else ""), err=True)


def receipt_column(row: Any, now: datetime.datetime, deadline_hours: float) -> str:
    """What the outbox list says of a delivery's application receipt."""
    if row.receipt_status:
        codes = f" {' '.join(row.receipt_errors)}" if row.receipt_errors else ""
        return f"receipt {row.receipt_status}{codes}"
    if row.state != "delivered" or not row.answer_id:
        return "-"
    delivered = datetime.datetime.fromisoformat(str(row.delivered_at).replace("Z", "+00:00"))
    waited = (now - delivered).total_seconds() / 3600
    if waited > deadline_hours:
        return f"OVERDUE: no receipt in {waited:.0f} h (deadline {deadline_hours:g} h)"
    remote = f" ({row.remote_status})" if row.remote_status else ""
    return f"awaiting receipt{remote}"


@click.group("nhn")
def nhn() -> None:
    """NHN EDI 2.0 (the national message service): fetch and answer our messages, follow our receipts."""


@nhn.command("poll")
@click.option("--once", is_flag=True, help="One round, then exit (exit 1 when something failed).")
@click.pass_context
def nhn_poll(ctx: click.Context, once: bool) -> None:
    """Fetch the unread messages for our HER-ids (SAMHANDLING_NHN_HER_IDS), process each like POST /kith/messages,
    send its AppRec back and mark it read; then record the AppRecs of our sent messages. Every
    SAMHANDLING_NHN_POLL_INTERVAL seconds until stopped (the worker also polls, so this is for scripts and for a
    service that runs no worker)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(ctx)
    service = _service(settings)
    with _setup_errors(settings):
        inbox = service.nhn_inbox()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while True:
        report = inbox.poll_once()
        click.echo(
            f"{report.listed} listed, {report.answered} processed and answered, {report.read} marked read, "
            f"{report.receipts} receipts recorded" + (f", {len(report.failures)} failed" if report.failures else "")
        )
        for failure in report.failures:
            click.echo(f"  {failure}", err=True)
        if once:
            sys.exit(1 if report.failures else 0)
        try:
            if stop.wait(settings.nhn_poll_interval):
                return
        except KeyboardInterrupt:
            return


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.pass_context
def outbox_retry(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Put dead or withdrawn deliveries back in the queue with fresh attempts (a withdrawn one goes only if its
    recipient may have it by then); exit 1 when one of IDS is neither."""
    settings = _settings(ctx)
    store = _operator_store(settings)
    with _setup_errors(settings):
        failed = [i for i in ids if not store.run(lambda tx, i=i: tx.retry(i))]
    for delivery_id in failed:
        click.echo(f"{delivery_id}: not a dead delivery", err=True)
    click.echo(f"{len(ids) - len(failed)} of {len(ids)} put back in the queue")
    sys.exit(1 if failed else 0)


@click.command("run")
@click.option("--target", metavar="URL", help="Base URL of a running service (default: one in this process).")
@click.option(
    "--token",
    "bearer",
    envvar="SAMHANDLING_TOKEN",
    help="Bearer token for --target (env SAMHANDLING_TOKEN); "
    "it needs the scopes messages and validate, and admin to send as each example's organisation.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the detail of passed examples too.")
@click.pass_context
def examples_run(ctx: click.Context, target: str | None, bearer: str | None, verbose: bool) -> None:
    """Send every example (FHIR and KITH) to a service and check each answer against its stated outcome; a table
    of passed and failed at the end; exit 1 on any failure. With --target, first checks that the service answers
    as a FHIR server and accepts the token with the scopes needed: when not, one line and exit 2, nothing sent
    (exit 2 too when the service stops answering during the run)."""
    from adapter import examples as catalogue

    settings = _settings(ctx)
    trials = catalogue.trials(settings.examples_dir)
    with tempfile.TemporaryDirectory(prefix="samhandling-examples-") as folder:
        client: Any
        if target:
            from adapter.transport.client import HttpTarget

            client = HttpTarget(target, lambda org: bearer or "")
            problem = catalogue.preflight(client, bearer, trials)
            if problem:
                click.echo(problem, err=True)
                sys.exit(2)
        else:
            from adapter.api.local import InProcessTarget

            local = dataclasses.replace(
                settings, data_dir=Path(folder), database_url="", demo_issuer=True, routes_file=""
            )
            client = InProcessTarget(_service(local))
        results, stopped = _send_trials(client, trials)
    width = max((len(t.name) for t, _, _ in results), default=10)
    click.echo(f"{'result':<6}  {'example':<{width}}  {'expected':<28}  detail")
    for trial, passed, detail in results:
        if passed and not verbose:
            detail = ""
        mark = click.style("PASS", fg="green") if passed else click.style("FAIL", fg="red")
        click.echo(f"{mark:<6}  {trial.name:<{width}}  {trial.expect:<28}  {detail}")
    failed = sum(not passed for _, passed, _ in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed, against {target or 'an in-process service'}")
    if stopped:
        click.echo(f"{target} stopped answering after {len(results)} of {len(trials)} examples: {stopped}", err=True)
        sys.exit(2)
    sys.exit(1 if failed or not results else 0)


#: Seconds a run goes before it shows a progress bar (on a terminal only).
PROGRESS_AFTER = 2.0


def _send_trials(client: Any, trials: list[Any]) -> tuple[list[tuple[Any, bool, str]], str | None]:
    """Send each trial and check its answer; stop at the first request that got no answer at all (the rest would
    only wait for their timeouts), giving what happened. A progress bar on stderr once the run has taken
    PROGRESS_AFTER seconds, when stderr is a terminal."""
    results: list[tuple[Any, bool, str]] = []
    started = time.monotonic()
    terminal = sys.stderr.isatty()
    with click.progressbar(
        trials, label="Running examples", file=sys.stderr, show_pos=True, item_show_func=_trial_name, hidden=True
    ) as bar:
        for trial in bar:
            if terminal and time.monotonic() - started > PROGRESS_AFTER:
                bar.hidden = False
            answer = client.send(trial.method, trial.path, trial.body, trial.content_type, trial.org)
            if answer.status == 0:
                return results, answer.body.decode("utf-8", "replace")
            passed, detail = trial.check(answer)
            results.append((trial, passed, detail))
    return results, None


def _trial_name(trial: Any) -> str:
    return str(trial.name) if trial else ""
