"""The implementation guide site at /ig/ (static pages generated from the package and mappings).

The pages are generated once (:func:`adapter.build.site.cache.cached_site`, into the settings' cache folder) at the
first request and then served as files with ``send_from_directory``, which refuses any path that would leave the
folder. ``/ig/`` is the home page; a page that does not exist is a 404 answered like every other (an
OperationOutcome, ADP-5014). No token is needed (``OPEN_PREFIXES``): the guide holds no patient data.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory
from flask.blueprints import BlueprintSetupState

from adapter.api.context import service
from adapter.build.site.cache import cached_site

blueprint = Blueprint("ig", __name__, url_prefix="/ig")
#: The key of the app's site folder in ``app.extensions``.
EXTENSION = "samhandling.ig"


class SiteFolder:
    """The folder of the generated site, made at first use (one generation per process, under a lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: Path | None = None

    def get(self) -> Path:
        """The folder, generated when it is missing (first request, or removed since)."""
        with self._lock:
            if self._folder is None or not (self._folder / "index.html").is_file():
                self._folder = cached_site(service().settings)
            return self._folder


@blueprint.record_once
def _attach(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = SiteFolder()


@blueprint.get("/")
def home() -> Response:
    """The home page of the guide."""
    return page("index.html")


@blueprint.get("/<path:name>")
def page(name: str) -> Response:
    """One page (or the stylesheet) of the guide; 404 for anything else, and for any path outside the folder."""
    folder: SiteFolder = current_app.extensions[EXTENSION]
    return send_from_directory(folder.get(), name)
