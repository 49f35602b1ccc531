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
from adapter.errors import Issue, SetupError
from adapter.examples import scenario_order
from adapter.pipeline import Pipeline, Reply
from adapter.records import Records
from adapter.route.deliver import Worker, WorkerSettings
from adapter.route.table import RoutingTable
from adapter.security import SCOPES, Caller, DemoIssuer, TokenVerifier
from adapter.store import Store, open_store
from adapter.translate import Translator
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
    ) -> None:
        self.settings = settings
        self.store: Store = open_store(settings.store_url)
        self.translator = translator or Translator(settings, validator)
        self.validator = self.translator.validator
        self.routes = (
            RoutingTable.load(Path(settings.routes_file)) if settings.routes_file else RoutingTable([], None, "none")
        )
        self.pipeline = Pipeline(self.store, self.translator, self.routes, clock)
        self.records = Records(self.store, self.validator, self.pipeline.distributor, clock)
        self.issuer = (
            DemoIssuer(settings.data_dir, settings.token_issuer, settings.token_audience)
            if settings.demo_issuer
            else None
        )
        self.verifier = self._verifier()
        self.outbound = Outbound(settings.delivery_connect_timeout, settings.delivery_read_timeout)

    def _verifier(self) -> TokenVerifier:
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
        return TokenVerifier(keys, self.settings.token_issuer, self.settings.token_audience)

    def worker(self, **options: Any) -> Worker:
        """An outbox worker that also processes messages accepted asynchronously."""
        worker_settings = WorkerSettings.from_settings(self.settings)
        return Worker(
            self.store,
            self.outbound,
            worker_settings,
            before_each=self.pipeline.process_pending,
            may_send=self.pipeline.distributor.check_before_sending,
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
