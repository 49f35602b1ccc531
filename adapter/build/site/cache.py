"""The site the service serves at ``/ig/``: generated once into the cache folder (``<cache>/ig-site/<fingerprint>``)
and reused while its sources are unchanged.

The fingerprint is a hash of everything the pages are made from (the package, the examples, the model, the
mappings, the error codes, the templates and the adapter's version), so a changed profile gives a new site and an
unchanged one is not generated again by the next process. The site is written into a temporary folder beside it and
renamed into place, so a process never serves a half-written site, and several processes may race safely.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from adapter import __version__
from adapter.build.site.writer import write_site
from adapter.config import Settings

#: The folder under ``settings.cache`` that holds the generated sites.
CACHE_FOLDER = "ig-site"


def cached_site(settings: Settings) -> Path:
    """The folder of the generated site for the current sources, generating it when it is missing."""
    root = settings.cache / CACHE_FOLDER
    target = root / fingerprint(settings)
    if (target / "index.html").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        write_site(settings, scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not (target / "index.html").is_file():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _drop_stale(root, keep=target)
    return target


def fingerprint(settings: Settings) -> str:
    """A hash of the site's sources (names and contents) and the adapter's version."""
    digest = hashlib.sha256(__version__.encode())
    for name, data in _source_files(settings):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:20]


def _source_files(settings: Settings) -> Iterator[tuple[str, bytes]]:
    folders = [
        (settings.profiles_dir / "resources", "*.json"),
        (settings.profiles_dir, "*.yaml"),
        (settings.examples_dir / "fhir", "*.json"),
        (settings.home / "mappings", "*.yaml"),
    ]
    for folder, pattern in folders:
        for path in sorted(folder.glob(pattern)):
            yield str(path.relative_to(settings.home)), path.read_bytes()
    yield "errors.yaml", resources.files("adapter").joinpath("errors.yaml").read_bytes()
    package = resources.files("adapter.build.site")
    for folder_name in ("templates", "static"):
        for entry in sorted(package.joinpath(folder_name).iterdir(), key=lambda e: e.name):
            yield f"{folder_name}/{entry.name}", entry.read_bytes()


def _drop_stale(root: Path, keep: Path) -> None:
    """Remove the sites of older sources (a process still serving one makes it again when it finds it gone)."""
    for entry in root.iterdir():
        if entry != keep and entry.is_dir() and not entry.name.startswith("."):
            shutil.rmtree(entry, ignore_errors=True)
