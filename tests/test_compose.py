"""compose.yaml and deploy/Caddyfile, read as data (CI runs no containers): the production topology they describe,
and that every setting, command, option, port and path they name is one this checkout has, so that a typo or a
renamed option fails here rather than at a deployment."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from adapter.cli import main
from adapter.config import Settings

ROOT = Path(__file__).resolve().parent.parent
ADAPTER_SERVICES = ("migrate", "app", "worker", "nhn-poll")
#: ${NAME}, ${NAME:-default}, ${NAME:?error}: compose's interpolation
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """Scope: module. Type: compose.yaml as a dict (anchors and merge keys resolved). Default: the repo's file."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def caddyfile() -> str:
    """Scope: module. Type: str, deploy/Caddyfile without its comments. Default: the repo's file."""
    text = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    return "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines())


class Recording(Mapping[str, str]):
    """An empty environment that notes every name it is asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_variables() -> set[str]:
    """Every environment variable ``Settings.from_env`` reads (it is asked, not parsed)."""
    environ = Recording()
    Settings.from_env(environ)
    return environ.asked


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict (compose allows a list of NAME=value too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def invocation(command: list[str]) -> tuple[list[str], click.Context]:
    """The ``samhandling`` subcommand path of ``command`` and its parsed context (the image's ENTRYPOINT is
    ``samhandling``); a click error when an option or its value is not one the command takes."""
    current: click.Command = main
    context = click.Context(main, info_name="samhandling")
    path: list[str] = []
    words = list(command)
    while isinstance(current, click.Group):
        assert words, f"samhandling {' '.join(path)} needs a subcommand"
        name = words.pop(0)
        found = current.get_command(context, name)
        assert found is not None, f"samhandling has no command {' '.join([*path, name])!r}"
        path.append(name)
        if isinstance(found, click.Group):
            context = click.Context(found, info_name=name, parent=context)
        else:
            context = found.make_context(name, words, parent=context)
        current = found
    return path, context


def test_the_services_and_what_they_run(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "app", "worker", "nhn-poll", "proxy"}
    assert services["app"]["deploy"]["replicas"] == 2
    commands = {name: invocation(services[name]["command"]) for name in ADAPTER_SERVICES}
    assert [path for path, _ in commands.values()] == [["db", "upgrade"], ["serve"], ["worker"], ["nhn", "poll"]]
    serve = commands["app"][1].params
    # a production serve: no demo issuer, no empty routing table allowed, delivery left to the worker
    assert serve["no_delivery"] and not serve["demo"] and not serve["allow_empty_routes"]
    assert serve["host"] == "0.0.0.0"  # noqa: S104 - inside its container, behind the proxy
    assert commands["nhn-poll"][1].params["once"] and services["nhn-poll"]["profiles"] == ["tools"]
    assert services["migrate"]["restart"] == "no"


def test_nothing_starts_before_the_database_is_up_and_its_schema_upgraded(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("app", "worker", "nhn-poll"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["proxy"]["depends_on"] == {"app": {"condition": "service_healthy"}}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:") and "pg_isready" in postgres["healthcheck"]["test"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "the database lives in a named volume"


def test_every_setting_is_one_the_adapter_reads_and_the_same_for_every_process(compose: dict[str, Any]) -> None:
    known = settings_variables()
    assert "SAMHANDLING_DATABASE_URL" in known and "SAMHANDLING_CONFIG" in known  # the recording works
    envs = {name: environment(compose["services"][name]) for name in ADAPTER_SERVICES}
    for name, env in envs.items():
        unknown = sorted(set(env) - known)
        assert not unknown, f"{name}: not settings of adapter/config.py: {unknown}"
        assert env == envs["app"], f"{name} is set up otherwise than app"
    app = envs["app"]
    assert app["SAMHANDLING_TRUSTED_PROXIES"] == "1"  # the proxy, and only it
    assert app["SAMHANDLING_BASE_URL"] == "https://${PUBLIC_HOST:?set PUBLIC_HOST in .env}"
    assert (
        app["SAMHANDLING_DATABASE_URL"].startswith("postgresql://")
        and "@postgres:5432/" in app["SAMHANDLING_DATABASE_URL"]
    )
    assert app["SAMHANDLING_ROUTES_FILE"] == "/config/routes.yaml"  # a production serve needs routes ...
    keys = "${SAMHANDLING_TOKEN_KEYS_FILE-/config/token-keys.json}"  # noqa: S105 - a file's path, no secret
    assert app["SAMHANDLING_TOKEN_KEYS_FILE"] == keys  # ... keys (an empty value in .env: the JWKS URL alone) ...
    assert app["SAMHANDLING_TOKEN_ISSUER"].startswith("${SAMHANDLING_TOKEN_ISSUER:?")  # ... and their issuer


def test_no_password_or_key_is_written_in_the_file(compose: dict[str, Any]) -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "PRIVATE KEY" not in text
    postgres = environment(compose["services"]["postgres"])
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")  # compose stops when it is not set
    url = environment(compose["services"]["app"])["SAMHANDLING_DATABASE_URL"]
    password = url.removeprefix("postgresql://").split("@")[0].split(":", 1)[1]
    assert INTERPOLATION.fullmatch(password) and password.startswith("${POSTGRES_PASSWORD:?"), password
    for service in compose["services"].values():
        for value in environment(service).values():
            for name, operator, _ in INTERPOLATION.findall(value):
                if name in ("POSTGRES_PASSWORD", "PUBLIC_HOST", "SAMHANDLING_TOKEN_ISSUER"):
                    assert operator == ":?", f"{name} has a default"


def test_files_are_mounted_read_only_where_the_settings_name_them(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "SAMHANDLING_STANDARDS=/standards" in dockerfile
    for name in ADAPTER_SERVICES:
        service = compose["services"][name]
        mounts = {}
        for volume in service["volumes"]:
            source, target, mode = volume.rsplit(":", 2)
            mounts[target] = (source, mode)
        assert mounts["/standards"][1] == "ro" and mounts["/config"] == ("./deploy/config", "ro"), name
        env = environment(service)
        assert env["SAMHANDLING_ROUTES_FILE"].startswith("/config/")
        assert "-/config/" in env["SAMHANDLING_TOKEN_KEYS_FILE"]
        assert "ports" not in service, f"{name} is reached through the proxy only"
        assert service["cap_drop"] == ["ALL"], name
    assert "ports" not in compose["services"]["postgres"]


def test_the_image_fits_the_services(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["samhandling"]' in dockerfile  # so each command above is a samhandling subcommand
    assert re.search(r"^USER samhandling$", dockerfile, re.MULTILINE)
    health = re.search(r"^HEALTHCHECK .*http://127\.0\.0\.1:(\d+)(/health/ready)", dockerfile, re.MULTILINE)
    assert health, "the image's HEALTHCHECK asks /health/ready"
    _, serve = invocation(compose["services"]["app"]["command"])
    assert int(health.group(1)) == serve.params["port"]
    for name in ("migrate", "worker", "nhn-poll"):  # no HTTP port to ask
        assert compose["services"][name]["healthcheck"] == {"disable": True}, name


def test_the_proxy_ends_tls_and_balances_over_every_app_replica(compose: dict[str, Any], caddyfile: str) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert set(proxy["ports"]) == {"443:443", "80:80"}
    mounts = {v.split(":")[1]: v for v in proxy["volumes"]}
    assert mounts["/etc/caddy/Caddyfile"] == "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"
    assert mounts["/certs"] == "./deploy/certs:/certs:ro"

    site = re.search(r"^\{\$PUBLIC_HOST\} \{$", caddyfile, re.MULTILINE)
    assert site and environment(proxy)["PUBLIC_HOST"] == "${PUBLIC_HOST:?set PUBLIC_HOST in .env}"
    tls = re.search(r"^\s*tls (\S+) (\S+)$", caddyfile, re.MULTILINE)
    assert tls and all(path.startswith("/certs/") for path in tls.groups())
    upstream = re.search(r"dynamic a \{\s*name (\S+)\s*port (\d+)", caddyfile)
    assert upstream, "the proxy looks up every replica (dynamic A records), not one address"
    _, serve = invocation(compose["services"]["app"]["command"])
    assert upstream.group(1) == "app" and int(upstream.group(2)) == serve.params["port"]
    # what a client sends as X-Forwarded-Port or -Prefix never reaches the app, which trusts one proxy
    assert re.search(r"header_up -X-Forwarded-Port\b", caddyfile)
    assert re.search(r"header_up -X-Forwarded-Prefix\b", caddyfile)
    assert re.search(r"^\s*respond /metrics 404$", caddyfile, re.MULTILINE)


def test_the_readme_names_only_real_settings_and_services(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running in production\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\bSAMHANDLING_[A-Z_]+[A-Z]\b", section))
    assert "SAMHANDLING_BASE_URL" in named and not named - settings_variables(), sorted(named - settings_variables())
    services = set(re.findall(r"docker compose (?:run --rm|exec -T|restart|logs -f) ([a-z-]+)", section))
    services |= set(re.findall(r"--scale ([a-z-]+)=", section))
    assert services and services <= set(compose["services"]), sorted(services - set(compose["services"]))
