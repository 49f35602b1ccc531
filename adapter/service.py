"""The service's parts, built once from Settings: store, validator, translator, routes, pipeline, REST records,
token verifier (and the demo issuer), outbound HTTP and the outbox worker. The Flask app (:mod:`adapter.api`) and
the command line use this; tests build their own with their own Settings.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapter import access
from adapter.config import Settings
from adapter.errors import AdapterError, Issue, SetupError
from adapter.examples import scenario_order
from adapter.parse.xml_safe import parse_xml
from adapter.pipeline import Pipeline
from adapter.receipt.apprec import ERROR_CODES, OTHER_ERROR, apprec_summary
from adapter.records import Records
from adapter.records.conformance import Conformance
from adapter.reply import Reply
from adapter.route.deliver import Worker, WorkerSettings
from adapter.route.nhn import NhnInbox, NhnOutbound, Processed
from adapter.route.table import RoutingTable
from adapter.security import MESSAGES_SCOPE, SCOPES, Caller, DemoIssuer, KeySet, KeysUnavailable, TokenVerifier
from adapter.store import Store, open_store
from adapter.translate import Translator
from adapter.transport.helseid import HelseIdClient, HelseIdConfig, HelseIdError
from adapter.transport.jwks import IssuerKeys, JwksError
from adapter.transport.nhn import Meldingstjener
from adapter.transport.outbound import Outbound
from adapter.validate import Validator

log = logging.getLogger(__name__)


class Service:
    """Everything one service process needs; thread-safe, one per app."""

    def __init__(
        self,
        settings: Settings,
        *,
        validator: Validator | None = None,
        translator: Translator | None = None,
        clock: Callable[[], float] = time.time,
        meldingstjener: Meldingstjener | None = None,
    ) -> None:
        self.settings = settings
        self.store: Store = open_store(settings.store_url, timeout=settings.database_timeout)
        self.translator = translator or Translator(settings, validator)
        self.validator = self.translator.validator
        self.routes = (
            RoutingTable.load(Path(settings.routes_file)) if settings.routes_file else RoutingTable([], None, "none")
        )
        self.pipeline = Pipeline(self.store, self.translator, self.routes, clock)
        self.records = Records(self.store, self.validator, self.pipeline.distributor, clock)
        self.conformance = Conformance(self.validator, clock)  # no patient data: outside the records' access path
        self.issuer = (
            DemoIssuer(settings.data_dir, settings.token_issuer, settings.token_audience)
            if settings.demo_issuer
            else None
        )
        self.issuer_keys: IssuerKeys | None = None  # the issuer's JWKS, when token_jwks_url is set
        self.verifier = self._verifier()
        self.outbound = Outbound(settings.delivery_connect_timeout, settings.delivery_read_timeout)
        self.meldingstjener = meldingstjener or self._meldingstjener()
        self.nhn_outbound = NhnOutbound(self.meldingstjener, self._sender_of)
        self.clock = clock
        self._polled_at = 0.0

    def _meldingstjener(self) -> Meldingstjener | None:
        """The NHN EDI 2.0 client when ``nhn_base_url`` is set; its HelseID settings must then be complete."""
        s = self.settings
        if not s.nhn_base_url:
            return None
        missing = [
            name
            for name in ("helseid_token_url", "helseid_client_id", "helseid_key_file", "nhn_her_ids")
            if not getattr(s, name)
        ]
        if missing:
            detail = f"nhn_base_url is set, but {', '.join('SAMHANDLING_' + m.upper() for m in missing)} not"
            raise SetupError([Issue("ADP-6010", "fatal", args={"detail": detail})])
        config = HelseIdConfig(
            s.helseid_token_url, s.helseid_client_id, s.helseid_key_file, s.helseid_scope, s.helseid_audience
        )
        timeout = (s.delivery_connect_timeout, s.delivery_read_timeout)
        try:
            helseid = HelseIdClient(config, timeout=timeout)
        except HelseIdError as error:  # a key file that is missing or not a private key: a setup error
            raise SetupError([Issue("ADP-6010", "fatal", args={"detail": error.detail})]) from error
        return Meldingstjener(s.nhn_base_url, helseid, source_system=s.nhn_source_system, timeout=timeout)

    def _sender_of(self, document: bytes) -> str | None:
        """The sending HER-id of a KITH document we send (its envelope's), for the message service."""
        try:
            envelope = self.translator.mappings.envelope(parse_xml(document).getroot())
        except AdapterError:
            return None
        return envelope.sender.her_ids[0] if envelope and envelope.sender.her_ids else None

    def nhn_inbox(self) -> NhnInbox:
        """The poller of NHN EDI 2.0 for our HER-ids (raises SetupError ADP-6010 when NHN is not configured)."""
        if self.meldingstjener is None or not self.settings.own_her_ids:
            names = ("nhn_base_url", "nhn_her_ids")
            unset = [f"SAMHANDLING_{name.upper()}" for name in names if not getattr(self.settings, name)]
            detail = f"{' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set"
            raise SetupError([Issue("ADP-6010", "fatal", args={"detail": detail})])
        return NhnInbox(self.store, self.meldingstjener, self.settings.own_her_ids, self._from_nhn)

    def _from_nhn(self, document: bytes, sender: str) -> Processed:
        """A message fetched from NHN, processed as ``POST /kith/messages`` from the sender NHN authenticated; the
        AppRec to send back through the API (none for a receipt)."""
        caller = Caller(org=sender, scopes=frozenset({MESSAGES_SCOPE}), subject="nhn-edi", client_id=None)
        reply = self.pipeline.process_kith(document, caller)
        if reply.content_type == "application/xml" and reply.body:
            return apprec_summary(reply.body)
        issues = (reply.resource or {}).get("issue", [])
        if reply.status < 300:  # a receipt taken: never answered
            return Processed(None)
        errors = [
            (ERROR_CODES.get(_issue_code(i), OTHER_ERROR), str(i.get("diagnostics", ""))[:1000])
            for i in issues
            if isinstance(i, dict) and i.get("severity") in ("error", "fatal")
        ]
        return Processed("rejected", tuple(errors) or ((OTHER_ERROR, f"HTTP {reply.status}"),))

    def poll_nhn_when_due(self) -> None:
        """Poll NHN when ``nhn_poll_interval`` has passed since the last poll (the worker's rounds call this)."""
        if self.meldingstjener is None or not self.settings.own_her_ids:
            return
        now = self.clock()
        if now - self._polled_at < self.settings.nhn_poll_interval:
            return
        self._polled_at = now
        report = self.nhn_inbox().poll_once()
        for failure in report.failures:
            log.warning("NHN EDI 2.0: %s", failure)

    def _verifier(self) -> TokenVerifier:
        """The token verifier: the keys of ``token_keys_file``, the issuer's JWKS at ``token_jwks_url`` (fetched
        through :class:`~adapter.transport.jwks.IssuerKeys`) and the demo issuer's key, with the claim settings."""
        keys: list[Any] = []
        if self.settings.token_keys_file:
            path = Path(self.settings.token_keys_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SetupError([Issue("ADP-0003", "fatal", args={"path": str(path), "detail": str(exc)})]) from exc
            keys.extend(json.loads(text).get("keys", []) if text.lstrip().startswith("{") else [text])
        if self.issuer is not None:
            keys.extend(self.issuer.public_keys())
        s = self.settings
        return TokenVerifier(
            keys,
            s.token_issuer,
            s.token_audience,
            org_claim=s.token_org_her_claim,
            key_set=self._issuer_keys() if s.token_jwks_url else None,
            orgnr_claim=s.token_orgnr_claim,
            scope_claim=s.token_scope_claim,
            her_ids_by_orgnr=s.her_ids_by_orgnr,
            dpop_window=s.dpop_window,
        )

    def _issuer_keys(self) -> KeySet:
        """The issuer's JWKS as the verifier's key source: fetched, cached and refetched by the transport, its
        failures turned into the verifier's KeysUnavailable (ADP-7027)."""
        s = self.settings
        remote = IssuerKeys(
            s.token_jwks_url,
            cache_seconds=s.token_jwks_cache_seconds,
            refetch_seconds=s.token_jwks_refetch_seconds,
            timeout=(s.delivery_connect_timeout, s.delivery_read_timeout),
        )
        self.issuer_keys = remote

        def jwks(unknown_kid: str | None) -> tuple[dict[str, Any], ...]:
            try:
                return remote.jwks(unknown_kid)
            except JwksError as error:
                log.warning("token keys: %s", error.detail)
                raise KeysUnavailable("the issuer's key set (JWKS) did not answer") from error

        return jwks

    def worker(self, **options: Any) -> Worker:
        """An outbox worker that also processes messages accepted asynchronously."""
        worker_settings = WorkerSettings.from_settings(self.settings)

        def before_each() -> None:
            self.pipeline.process_pending()
            self.poll_nhn_when_due()

        return Worker(
            self.store,
            self.outbound,
            worker_settings,
            before_each=before_each,
            may_send=self.pipeline.distributor.check_before_sending,
            nhn=self.nhn_outbound.post,
            **options,
        )

    def load_examples(self) -> list[tuple[str, Reply]]:
        """Send every example message Bundle through the pipeline (consents first), as its sender would; the
        demo's shared records. Returns each file with its answer."""
        folder = self.settings.examples_dir / "fhir"
        files = sorted(folder.glob("Bundle-melding-*.json"), key=scenario_order)
        answers = []
        for path in files:
            data = path.read_bytes()
            sender = access.message_sender(json.loads(data)) or ""
            caller = Caller(org=sender, scopes=frozenset(SCOPES), subject="demo-loader", client_id=None)
            answers.append((path.name, self.pipeline.process_message(data, "json", caller)))
        return answers


def _issue_code(issue: dict[str, Any]) -> str:
    coding = (issue.get("details") or {}).get("coding") or [{}]
    return str(coding[0].get("code") or "")
