"""The store at scale (adapter/store): the queries of a read by id, a search by patient identifier, a search by
category and lastUpdated, a resource's history and the audit searches are answered from the primary key or an
index, never by a walk over every resource of a type, on both backends (the query plans, read with ``EXPLAIN``).

Each PostgreSQL case runs in a schema of its own in the test database (``search_path`` in the URL)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapter import access
from adapter.api import create_app
from adapter.config import Settings
from adapter.identifiers import mod11_check_digit
from adapter.security import SCOPES
from adapter.service import Service
from adapter.store import Store, Tx, open_store
from adapter.translate import Translator
from adapter.validate import Validator

BACKENDS = ["sqlite", "postgresql"]
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
CATEGORY = "http://example.org/category"
#: patients in the filled store: each with a Patient, two CarePlans (one updated twice) and audit events, some
#: thousands of rows in each big table
PATIENTS = 800
BIG_TABLES = ("resources", "search", "audit")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "fhir"
EXAMPLE_FNR = "15838510075"
SENDERS = {
    "Organization/org-dps": "8100002",
    "Organization/org-kommune": "8100001",
    "Organization/org-legekontor": "8100003",
}
#: the services' clock: inside the period of the example consent
TODAY = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC).timestamp()


def fnr(n: int) -> str:
    return f"{10000000000 + n}"


def fill(store: Store) -> None:
    """PATIENTS patients, their plans (versions) and audit events, written as the service writes them."""

    def work(tx: Tx) -> None:
        for n in range(PATIENTS):
            org = f"81{n % 50:05d}"
            patient = {"resourceType": "Patient", "id": f"p-{n}", "identifier": [{"system": FNR, "value": fnr(n)}]}
            ref = f"Patient/p-{n}"
            tx.write(patient, patient=ref, parties=[org], index=access.index_terms(patient, ref, []), writer=org)
            for kind in ("crisis", "individual"):
                plan = {
                    "resourceType": "CarePlan",
                    "id": f"cp-{kind}-{n}",
                    "status": "active",
                    "category": [{"coding": [{"system": CATEGORY, "code": kind}]}],
                    "subject": {"reference": ref},
                }
                index = list(access.index_terms(plan, ref, [(FNR, fnr(n))]))
                for _ in range(2 if kind == "crisis" else 1):
                    tx.write(plan, patient=ref, parties=[org], index=index, writer=org)
            for action in ("C", "R"):
                tx.audit(
                    {
                        "resourceType": "AuditEvent",
                        "action": action,
                        "outcome": "0",
                        "agent": [{"who": {"identifier": {"value": org}}}],
                        "entity": [{"what": {"reference": ref}, "role": {"code": "1"}}],
                    }
                )

    store.run(work)


class Recording(Tx):
    """A transaction that keeps each statement it runs with its parameters."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        super().__init__(cursor, dialect)
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def _sql(self, sql: str, params: Any = ()) -> Any:
        self.statements.append((sql, tuple(params)))
        return super()._sql(sql, params)


def plans_of(store: Store, operation: Callable[[Tx], object]) -> list[list[str]]:
    """The query plan of each SELECT ``operation`` runs, as lines (``EXPLAIN QUERY PLAN`` / ``EXPLAIN``)."""

    def work(tx: Tx) -> list[list[str]]:
        recording = Recording(tx._cursor, tx.dialect)
        operation(recording)
        plans = []
        for sql, params in recording.statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            if tx.dialect == "sqlite":
                rows = tx._sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                plans.append([str(row[3]) for row in rows])
            else:
                (plan,) = tx._sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
                plans.append(list(_nodes(plan if isinstance(plan, list) else json.loads(plan))))
        return plans

    return store.run(work)


def _nodes(plan: Any) -> Iterator[str]:
    """Each node of a PostgreSQL JSON plan as ``<Node Type> on <relation> using <index>``."""
    if isinstance(plan, list):
        for item in plan:
            yield from _nodes(item)
    elif isinstance(plan, dict):
        if "Node Type" in plan:
            yield f"{plan['Node Type']} on {plan.get('Relation Name', '-')} using {plan.get('Index Name', '-')}"
        for key in ("Plan", "Plans"):
            if key in plan:
                yield from _nodes(plan[key])


def walks(lines: list[str], dialect: str) -> list[str]:
    """The lines of a plan that walk a big table (or every entry of one of its indexes) instead of probing it."""
    if dialect == "sqlite":  # SCAN: the whole table or index; SEARCH: a probe by the index's leading columns
        return [line for line in lines if re.match(rf"SCAN ({'|'.join(BIG_TABLES)})\b", line)]
    return [line for line in lines if line.startswith("Seq Scan on") and line.split()[3] in BIG_TABLES]


OPERATIONS: dict[str, Callable[[Tx], object]] = {
    "read by id": lambda tx: tx.read("CarePlan", "cp-crisis-400"),
    "read a version": lambda tx: tx.read("CarePlan", "cp-crisis-400", 1),
    "search by patient identifier": lambda tx: tx.search("CarePlan", [("patient:identifier", [f"{FNR}|{fnr(400)}"])]),
    "search a patient by identifier": lambda tx: tx.search("Patient", [("identifier", [f"{FNR}|{fnr(400)}"])]),
    "search by category and lastUpdated": lambda tx: tx.search(
        "CarePlan", [("category", [f"{CATEGORY}|crisis"])], updated=[(">=", "2000-01-01")], limit=10
    ),
    "history": lambda tx: tx.history("CarePlan", "cp-crisis-400"),
    "audit by patient": lambda tx: tx.audits(patient="Patient/p-400", limit=10),
    "audit by organisation": lambda tx: tx.audits(org="8100007", limit=10),
    "the write's version before": lambda tx: tx.write(
        {"resourceType": "Basic", "id": "b-1"}, patient=None, parties=[], index=[], writer=None
    ),
}


@pytest.mark.parametrize(
    ("backend", "analysed"),
    # PostgreSQL's autovacuum analyses a table soon after it grew (and the store after a bulk load); SQLite keeps
    # no statistics until the store is opened again, so its plans must be right without them too
    [("sqlite", True), ("postgresql", True), ("sqlite", False)],
    ids=["sqlite-statistics", "postgresql-statistics", "sqlite-no-statistics"],
)
def test_the_store_queries_probe_an_index_and_never_walk_a_big_table(
    backend: str, analysed: bool, new_url: Callable[[str], str]
) -> None:
    store = open_store(new_url(backend))
    try:
        fill(store)
        if analysed:
            store.analyze()
        found = store.run(lambda tx: tx.search("CarePlan", [("patient:identifier", [f"{FNR}|{fnr(400)}"])]))
        assert [r.id for r in found] == ["cp-individual-400", "cp-crisis-400"] or {r.id for r in found} == {
            "cp-individual-400",
            "cp-crisis-400",
        }
        for name, operation in OPERATIONS.items():
            plans = plans_of(store, operation)
            assert plans, name
            for lines in plans:
                assert not walks(lines, store.dialect), (name, lines)
        # a read by id and the searches with terms take each resource by its id (its own index or the primary
        # key), never by walking resources_current over every current resource of the type
        for name in ("read by id", "search by patient identifier", "search a patient by identifier"):
            for lines in plans_of(store, OPERATIONS[name]):
                assert not any("resources_current" in line for line in lines), (name, lines)
                assert any(re.search(r"resources_id|resources_pkey|autoindex_resources", line) for line in lines)
        # the audit trail is searched by organisation from its index, page by page, not along the whole trail
        for lines in plans_of(store, OPERATIONS["audit by organisation"]):
            assert any("audit_org" in line for line in lines), lines
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_statistics_are_gathered_on_opening_a_sqlite_store_and_by_analyze(
    backend: str, new_url: Callable[[str], str]
) -> None:
    url = new_url(backend)
    store = open_store(url)
    try:
        fill(store)
        if backend == "postgresql":
            store.analyze()
            rows = store.run(
                lambda tx: tx._sql(
                    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                    "AND last_analyze IS NOT NULL"
                ).fetchall()
            )
            assert set(BIG_TABLES) <= {row[0] for row in rows}
            return
    finally:
        store.close()
    reopened = open_store(url)  # SQLite: analysed on opening, a sample of each index
    try:
        rows = reopened.run(lambda tx: tx._sql("SELECT tbl, idx FROM sqlite_stat1").fetchall())
        assert {"resources_id", "search_match", "audit_org"} <= {row[1] for row in rows}
    finally:
        reopened.close()


def valid_fnr(n: int) -> str:
    """A fødselsnummer (born 15.03.1985) with valid check digits, one for each ``n``."""
    for individual in range(100 + 7 * n, 1000):
        digits = f"150385{individual:03d}"
        first = mod11_check_digit(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2))
        second = None if first is None else mod11_check_digit(f"{digits}{first}", (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
        if first is not None and second is not None:
            return f"{digits}{first}{second}"
    raise AssertionError(n)


def message_for(name: str, n: int) -> bytes:
    """The example message ``name`` about patient ``n`` (its own ids, fødselsnummer and message id); the
    organisations and practitioners it carries are the example's, unchanged."""
    text = (EXAMPLES / name).read_text(encoding="utf-8").replace(EXAMPLE_FNR, valid_fnr(n)).replace("-ola", f"-ola{n}")
    bundle = json.loads(text)
    bundle["identifier"]["value"] = f"urn:uuid:{uuid.uuid4()}"
    header = bundle["entry"][0]
    header["resource"]["id"] = str(uuid.uuid4())
    header["fullUrl"] = header["fullUrl"].rsplit("/", 1)[0] + "/" + header["resource"]["id"]
    return json.dumps(bundle).encode()


@pytest.mark.parametrize("backend", BACKENDS)
def test_messages_of_seven_patients_leave_the_shared_directory_entries_at_one_version(
    backend: str, new_url: Callable[[str], str], settings: Settings, validator: Validator, tmp_path: Path
) -> None:
    """A message carries the sender's Organization, Practitioners and the Patient; one that says what the store
    has already makes no new version of them (as a no-op update), patient after patient."""
    url = new_url(backend)
    service = Service(
        dataclasses.replace(
            settings, data_dir=tmp_path / "data", database_url=url if backend != "sqlite" else "", demo_issuer=True
        ),
        translator=Translator(settings, validator),
        clock=lambda: TODAY,
    )
    try:
        client = create_app(service=service).test_client()
        assert service.issuer is not None
        names = sorted(p.name for p in EXAMPLES.glob("Bundle-melding-*.json") if "kvittering" not in p.name)
        names.sort(key=lambda name: "samtykke" not in name)  # the consent first: the others are shared under it
        for n in range(7):
            for name in names:
                sender = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))["entry"][0]["resource"]["sender"]
                token = service.issuer.issue(SENDERS[sender["reference"]], SCOPES, ttl_seconds=600)
                answer = client.post(
                    "/$process-message",
                    data=message_for(name, n),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
                )
                assert answer.get_json()["entry"][0]["resource"]["response"]["code"] == "ok", (n, name)
        for rtype, rid in (
            ("Organization", "org-dps"),
            ("Organization", "org-kommune"),
            ("Practitioner", "behandler-dps"),
            ("Practitioner", "koordinator-kommune"),
        ):
            assert len(service.store.run(lambda tx, t=rtype, i=rid: tx.history(t, i))) == 1, (rtype, rid)
        # each patient's own record too: its plan was sent once, the Patient by several messages unchanged
        for n in (0, 6):
            assert len(service.store.run(lambda tx, n=n: tx.history("Patient", f"pasient-ola{n}"))) == 1
        assert len(service.store.run(lambda tx: tx.search("Patient", [], limit=None))) == 7
    finally:
        service.store.close()
        service.outbound.close()
