"""A flood of oversize $validate requests against a real ``samhandling serve`` (gunicorn, 2 workers x 8 threads)
must not hold up a cheap read: the documents beyond the caps are refused (413) right after the parse, and no more
than ``SAMHANDLING_EXPENSIVE_CONCURRENCY`` of them run at once in a process (the rest: 503 before their body is
read), so the reads always find a thread. The bound is a ratio of the same run's latencies, never an absolute time."""

from __future__ import annotations

import json
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from reliability_helpers import ServiceProcess, free_port, service_env
from service_helpers import DPS, KOMMUNE, example

from adapter.config import Settings
from adapter.security import SCOPES, DemoIssuer

#: How many times its idle latency the median concurrent read may take.
RATIO = 5.0
READS = 40
FLOODERS = 8


def _token(data_dir: Path, org: str) -> str:
    defaults = Settings()
    return DemoIssuer(data_dir, defaults.token_issuer, defaults.token_audience).issue(org, SCOPES, ttl_seconds=3600)


def _oversize() -> bytes:
    """About 9.5 MB of JSON with 1.9 million values: under the byte limit, far beyond the element cap."""
    return json.dumps({"resourceType": "Patient", "name": [{"given": ["a"] * 1_900_000}]}).encode()


def _read_latencies(session: requests.Session, url: str, headers: dict[str, str], count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url, headers=headers, timeout=60)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:500]
    return seconds


def _flood(base: str, token: str, flooding: Any, answered: Any, answers: Any) -> None:
    """In a process of its own: :data:`FLOODERS` threads post the oversize document to $validate, each again as
    soon as it has its answer, while ``flooding`` is set (``answered`` is set at the first answer); then the count
    of each answer goes to ``answers``."""
    body = _oversize()
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def post() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        with requests.Session() as session:
            while flooding.is_set():
                try:
                    status = str(session.post(base + "/$validate", data=body, headers=headers, timeout=60).status_code)
                except requests.ConnectionError:
                    status = "closed"  # refused before its body was read: the server may close the connection
                with lock:
                    counts[status] += 1
                answered.set()

    threads = [threading.Thread(target=post) for _ in range(FLOODERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers.put(dict(counts))


def test_a_flood_of_oversize_validations_does_not_hold_up_a_plan_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # no rate limit: the caps and the turns alone must keep the read fast (a rate limit would only help)
    env = service_env(data_dir, rate_limit="", rate_limit_anonymous="")
    kommune, dps = _token(data_dir, KOMMUNE), _token(data_dir, DPS)
    server = ServiceProcess(
        ["serve", "--port", str(port), "--workers", "2", "--threads", "8", "--no-delivery", "--allow-empty-routes"],
        env,
        tmp_path / "log",
    )
    try:
        server.start().wait_ready(base)
        fhir = {"Content-Type": "application/fhir+json"}
        for token, name in (
            (kommune, "fhir/Bundle-melding-samtykke-ola.json"),
            (dps, "fhir/Bundle-melding-kriseplan-ola.json"),
        ):
            sent = requests.post(
                base + "/$process-message",
                data=example(name),
                headers={"Authorization": f"Bearer {token}", **fhir},
                timeout=60,
            )
            assert sent.status_code == 200, sent.text[:1000]
        reader = {"Authorization": f"Bearer {dps}", "Accept": "application/fhir+json"}
        found = requests.get(base + "/CarePlan?_count=1", headers=reader, timeout=60).json()
        plan_url = f"{base}/CarePlan/{found['entry'][0]['resource']['id']}"

        session = requests.Session()
        _read_latencies(session, plan_url, reader, 10)  # warm up: connections, caches
        idle = statistics.median(_read_latencies(session, plan_url, reader, READS))

        # the flood comes from another process, as it would from another machine: its threads do not share the
        # reader's interpreter lock, so that only the service's own delays are measured
        context = multiprocessing.get_context("spawn")
        flooding, answered = context.Event(), context.Event()
        flooding.set()
        answers = context.Queue()
        flood = context.Process(target=_flood, args=(base, kommune, flooding, answered, answers), daemon=True)
        flood.start()
        try:
            assert answered.wait(120), "the flood never got an answer"
            time.sleep(0.5)  # every flooder is at it
            session = requests.Session()  # the idle one's connection may have passed gunicorn's keep-alive
            loaded = statistics.median(_read_latencies(session, plan_url, reader, READS))
        finally:
            flooding.clear()
            counts: dict[str, int] = answers.get(timeout=120)
            flood.join(60)
        print(
            f"plan read: idle median {idle * 1000:.1f} ms, under the flood {loaded * 1000:.1f} ms, "
            f"ratio {loaded / idle:.2f}; flood answers {counts}"
        )
        assert counts.get("413", 0) >= FLOODERS, counts  # the flood did arrive and was refused by the caps
        assert set(counts) <= {"413", "503", "closed"}, counts  # never validated, never a crash
        assert loaded <= RATIO * idle, f"idle {idle:.4f} s, under the flood {loaded:.4f} s"
    finally:
        server.stop()
