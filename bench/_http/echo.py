"""The floor of ``bench/http``: a bare Flask app served by gunicorn with the service's settings.

``POST /echo`` answers with the request body and its content type; ``GET /echo`` answers with the bytes of the file
named by ``BENCH_ECHO_BODY`` (the plan as the service answers a read), as ``application/fhir+json``. ``POST /parse``
is a second, informative floor: it reads the body into fhir.resources R4B models (``Bundle.model_validate``, the
structure-only floor of ``bench/validate``) and answers with the body, so a run shows what merely reading the same
Bundle costs on the same setup. Run as ``python bench/_http/echo.py --port P --workers W --threads T``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication


def create_app() -> Flask:
    """The echo app."""
    app = Flask("echo")
    stored = Path(os.environ["BENCH_ECHO_BODY"]).read_bytes() if os.environ.get("BENCH_ECHO_BODY") else b"{}"

    @app.post("/echo")
    def echo() -> Response:
        return Response(request.get_data(), content_type=request.content_type or "application/octet-stream")

    @app.post("/parse")
    def parse() -> Response:
        from fhir.resources.R4B.bundle import Bundle

        body = request.get_data()
        Bundle.model_validate(json.loads(body))
        return Response(body, content_type=request.content_type or "application/octet-stream")

    @app.get("/echo")
    def read() -> Response:
        return Response(stored, content_type="application/fhir+json; charset=utf-8")

    return app


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn with the settings of ``samhandling serve`` (adapter/cli_service.py): gthread workers, access log."""

    def __init__(self, bind: str, workers: int, threads: int) -> None:
        self.options = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "graceful_timeout": 10,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    Server(f"{args.host}:{args.port}", args.workers, args.threads).run()
