"""The production topology of compose.yaml, run as processes: one PostgreSQL database, two ``samhandling serve
--no-delivery`` and one ``samhandling worker`` sharing it, with the settings compose.yaml gives them (token keys of
an issuer that is not the demo one, a routing table, the public base URL, one trusted proxy). ``samhandling
examples run`` goes to one serve and passes; the worker, not the serves, delivers what it queued to the fake
receivers until the outbox is empty; each serve answers reads of what the other stored; and every process is gone
at the end, whatever happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from reliability_helpers import ROOT, ServiceProcess, consent_messages, free_port, query, scratch_database, wait_until
from werkzeug import Response

pytestmark = pytest.mark.postgres

ISSUER = "https://helseid-sts.test.example"
AUDIENCE = "samhandling-adapter"
PUBLIC = "https://fhir.topology.example"
#: The three example organisations (examples/fhir/Organization-org-*.json): HER-id -> the format it speaks.
RECEIVERS = {"8100001": "kith", "8100002": "fhir", "8100003": "kith"}
DPS, KOMMUNE = "8100002", "8100001"
#: What the test team's token holds (examples run needs messages, validate, and admin to send as each example's
#: organisation).
SCOPES = "samhandling/messages samhandling/validate samhandling/admin samhandling/plans.read samhandling/plans.write"


@dataclass
class Topology:
    """The running processes, their URLs, the store they share and a way to mint tokens."""

    serves: list[str]
    database_url: str
    env: dict[str, str]
    key: rsa.RSAPrivateKey
    processes: list[ServiceProcess]

    @property
    def worker(self) -> ServiceProcess:
        """``samhandling worker`` (not started by the fixture)."""
        return self.processes[-1]

    def token(self, org: str, scopes: str = SCOPES, key: rsa.RSAPrivateKey | None = None) -> str:
        """A bearer token as the identity provider would sign it (HelseID style claims, RS256, its ``kid``); with
        ``key``, the same token signed by someone else."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"test-team@{org}",
            "client_id": "topology-test",
            "org_her": org,
            "scope": scopes,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "topology-1", "typ": "at+jwt"})

    def get(self, serve: str, path: str, org: str = DPS) -> requests.Response:
        """GET ``path`` from ``serve`` with an organisation's token."""
        return requests.get(serve + path, headers={"Authorization": f"Bearer {self.token(org)}"}, timeout=30)

    def tails(self) -> str:
        """The end of every process's output (for failure messages)."""
        return "\n".join(f"--- {' '.join(p.args[:3])} ---\n{p.tail(25)}" for p in self.processes)


def compose_app_environment() -> dict[str, Any]:
    """The environment compose.yaml gives the app service (the settings this test must give its serves too)."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return dict(compose["services"]["app"]["environment"])


def receivers(httpserver: HTTPServer) -> None:
    """Every receiver, and the fallback, answers each delivery 200 at a path of its own."""
    for her_id, fmt in RECEIVERS.items():
        httpserver.expect_request(f"/{fmt}/{her_id}", method="POST").respond_with_response(Response("ok"))
    httpserver.expect_request("/fallback", method="POST").respond_with_response(Response("ok"))


def routes_file(path: Path, httpserver: HTTPServer) -> Path:
    """A routing table that sends each example organisation's messages to its fake receiver."""
    table = {
        "routes": [
            {"receiver": her_id, "destination": httpserver.url_for(f"/{fmt}/{her_id}"), "format": fmt}
            for her_id, fmt in RECEIVERS.items()
        ],
        "fallback": {"destination": httpserver.url_for("/fallback"), "format": "fhir"},
    }
    path.write_text(yaml.safe_dump(table), encoding="utf-8")
    return path


def keys_file(path: Path, key: rsa.RSAPrivateKey) -> Path:
    """The issuer's public key as a JWKS (what HelseID publishes), never the private part."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "topology-1", "use": "sig", "alg": "RS256"}]}), "utf-8")
    return path


def production_env(tmp_path: Path, database_url: str, httpserver: HTTPServer, key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The environment of every process: the settings compose.yaml fixes for the app (each one given a value here,
    so a setting added there and not here fails the test), pointed at this test's files and database, and those an
    operator's .env holds (compose passes all of .env on): the issuer's keys from a file, its audience."""
    config = tmp_path / "config"
    config.mkdir()
    fixed = {
        "SAMHANDLING_DATABASE_URL": database_url,
        "SAMHANDLING_BASE_URL": PUBLIC,
        "SAMHANDLING_TRUSTED_PROXIES": "1",
        "SAMHANDLING_ROUTES_FILE": str(routes_file(config / "routes.yaml", httpserver)),
        "SAMHANDLING_DEMO_ISSUER": "false",
        "SAMHANDLING_TOKEN_ISSUER": ISSUER,
    }
    dotenv = {
        "SAMHANDLING_TOKEN_AUDIENCE": AUDIENCE,
        "SAMHANDLING_TOKEN_KEYS_FILE": str(keys_file(config / "token-keys.json", key)),
    }
    in_compose = compose_app_environment()
    assert set(in_compose) == set(fixed), f"compose.yaml fixes otherwise: {sorted(set(in_compose) ^ set(fixed))}"
    assert in_compose["SAMHANDLING_TRUSTED_PROXIES"] == fixed["SAMHANDLING_TRUSTED_PROXIES"]
    assert in_compose["SAMHANDLING_DEMO_ISSUER"] == fixed["SAMHANDLING_DEMO_ISSUER"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMHANDLING_") or k == "SAMHANDLING_STANDARDS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["SAMHANDLING_DATA_DIR"] = str(tmp_path / "data")  # the Dockerfile's /data: unused with PostgreSQL
    env.update({**dotenv, **fixed})  # compose's order: the env_file, then the environment block over it
    return env


@pytest.fixture
def topology(tmp_path: Path, postgres_url: str, httpserver: HTTPServer) -> Iterator[Topology]:
    """Scope: function. Type: Topology. Default: a fresh PostgreSQL database (dropped at the end), the schema
    upgraded by ``samhandling db upgrade``, two production serves (``--no-delivery``, one gunicorn worker
    of 4 threads each, on free ports) running, and one ``samhandling worker`` for the test to start; each in a
    process group of its own, stopped (SIGTERM, then SIGKILL) at the end, pass or fail."""
    receivers(httpserver)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with scratch_database(postgres_url, f"samhandling_topology_{os.getpid()}") as database_url:
        env = production_env(tmp_path, database_url, httpserver, key)
        migrate = subprocess.run(  # the migrate service of compose.yaml, before anything else starts
            [sys.executable, "-m", "adapter.cli", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        ports = [free_port(), free_port()]
        serves = [
            ServiceProcess(
                ["serve", "--port", str(port), "--workers", "1", "--threads", "4", "--no-delivery"],
                env,
                tmp_path / f"serve-{port}.log",
            )
            for port in ports
        ]
        worker = ServiceProcess(["worker"], env, tmp_path / "worker.log")
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            for serve in serves:
                serve.start()
            for serve, url in zip(serves, urls, strict=True):
                serve.wait_ready(url, timeout=90)
            yield Topology(urls, database_url, env, key, [*serves, worker])
        finally:
            for process in [*serves, worker]:
                process.stop()
            left = [" ".join(p.args) for p in [*serves, worker] if p.alive()]
            assert not left, f"processes left behind: {left}"


def outbox(database_url: str) -> dict[str, int]:
    """The outbox rows by state."""
    return {str(state): int(n) for state, n in query(database_url, "SELECT state, COUNT(*) FROM outbox GROUP BY state")}


def drain(topology: Topology, more_than: int = 0) -> int:
    """Wait until the outbox holds more than ``more_than`` deliveries, all delivered; their number."""

    def drained() -> bool:
        states = outbox(topology.database_url)
        return sum(states.values()) > more_than and set(states) == {"delivered"}

    try:
        wait_until(drained, 45, "the worker to deliver the whole outbox")
    except AssertionError as error:
        raise AssertionError(f"{error}: {outbox(topology.database_url)}\n{topology.tails()}") from error
    return outbox(topology.database_url)["delivered"]


def examples_run(target: str, token: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``samhandling examples run --target TARGET --token TOKEN`` as its own process, as a test team runs it."""
    return subprocess.run(
        [sys.executable, "-m", "adapter.cli", "examples", "run", "--target", target, "--token", token],
        cwd=ROOT,
        env={k: v for k, v in env.items() if k != "SAMHANDLING_DATABASE_URL"},  # it needs no store of its own
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_two_serves_and_a_worker_on_one_postgresql_pass_the_examples_and_deliver_everything(
    topology: Topology, httpserver: HTTPServer
) -> None:
    first, second = topology.serves
    assert topology.get(first, "/CarePlan").json().get("total", 0) == 0  # a fresh store
    forged = topology.token(DPS, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    refused = requests.get(second + "/CarePlan", headers={"Authorization": f"Bearer {forged}"}, timeout=30)
    assert refused.status_code == 401, refused.text[-2000:]  # the issuer's keys alone, no demo issuer

    ran = examples_run(first, topology.token(DPS), topology.env)
    assert ran.returncode == 0, f"{ran.stdout[-4000:]}\n{ran.stderr[-2000:]}\n{topology.tails()}"
    summary = ran.stdout.strip().splitlines()[-1]
    assert summary.endswith(f"0 failed, against {first}") and not summary.startswith("0 passed"), summary

    # the serves do not deliver (--no-delivery): what the examples queued waits for the worker, which empties it
    queued = outbox(topology.database_url)
    assert set(queued) == {"pending"} and not httpserver.log, (queued, len(httpserver.log))
    topology.worker.start()
    first_round = drain(topology)
    assert first_round == queued["pending"]
    posted = [request for request, _ in httpserver.log if request.method == "POST"]
    assert len(posted) >= first_round > 0, (len(posted), first_round)
    paths = {request.path for request in posted}
    assert {f"/{fmt}/{her_id}" for her_id, fmt in RECEIVERS.items()} <= paths, paths
    assert all(request.headers.get("X-Message-Id") for request in posted)

    # a message sent to the second serve: stored in the same database, and delivered by the same worker
    msg_id, body = consent_messages(1, "topology-second")[0]
    headers = {"Authorization": f"Bearer {topology.token(KOMMUNE)}", "Content-Type": "application/fhir+json"}
    answer = requests.post(second + "/$process-message", data=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text[-2000:]
    assert answer.json()["entry"][0]["resource"]["response"]["code"] == "ok"
    assert drain(topology, more_than=first_round) > first_round
    assert len([r for r, _ in httpserver.log if r.method == "POST"]) > len(posted)

    # each serve reads what the other stored: the same plans, the same consent
    plans = [topology.get(serve, "/CarePlan?_sort=_id").json() for serve in (first, second)]
    assert plans[0]["total"] > 0 and [e["resource"]["id"] for e in plans[0]["entry"]] == [
        e["resource"]["id"] for e in plans[1]["entry"]
    ]
    assert all(e["fullUrl"].startswith(PUBLIC + "/CarePlan/") for e in plans[1]["entry"])  # the base URL, not Host
    receipt = topology.get(first, f"/kith/receipts/{msg_id}", org=KOMMUNE)
    assert receipt.status_code == 200, receipt.text[-2000:]
    sent = next(e["resource"] for e in json.loads(body)["entry"] if e["resource"]["resourceType"] == "Consent")
    stored = topology.get(first, f"/Consent/{sent['id']}", org=KOMMUNE)
    assert stored.status_code == 200 and stored.json()["dateTime"] == sent["dateTime"], stored.text[-2000:]

    for serve in (first, second):
        ready = requests.get(serve + "/health/ready", timeout=10).json()
        assert ready["store"] == "ok" and ready["outbox_lag_seconds"] == 0, ready
