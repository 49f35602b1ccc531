"""compose.yaml, deploy/Caddyfile, deploy/env.example, .dockerignore and README.md's "Running in production", read
as data (CI runs no containers): the production topology they describe, and that every setting, command, option,
port and path they name is one this checkout has, so that a typo or a renamed option fails here rather than at a
deployment; that every setting an operator puts in .env reaches the containers; that no command the README gives an
operator upgrades the schema by the way; and that no secret or patient data goes into the image's build context."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import jwt
import pytest
import yaml
from click.testing import CliRunner

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


def env_files(service: dict[str, Any]) -> list[str]:
    """The files a service's environment is read from (compose's short syntax, a string or a list of paths)."""
    files = service.get("env_file") or []
    return [files] if isinstance(files, str) else [str(f) for f in files]


def interpolated(value: str, dotenv: Mapping[str, str]) -> str:
    """``value`` with compose's interpolation done from ``dotenv`` (a LookupError where ``:?`` or ``?`` stops)."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        found = dotenv.get(name)
        if operator in (":?", "?") and (found is None or (operator == ":?" and not found)):
            raise LookupError(f"{name}: {argument}")
        if operator == ":-" and not found:
            return str(argument)
        if operator == "-" and found is None:
            return str(argument)
        return found or ""

    return INTERPOLATION.sub(one, value)


def container_environment(service: dict[str, Any], dotenv: Mapping[str, str]) -> dict[str, str]:
    """What a container of ``service`` gets when ``dotenv`` is the operator's .env: the env_file, then the
    environment block over it (compose's order)."""
    given = dict(dotenv) if ".env" in env_files(service) else {}
    return {**given, **{name: interpolated(value, dotenv) for name, value in environment(service).items()}}


#: What an operator's .env must hold for compose to start (README: "Running in production").
MINIMAL_DOTENV = {
    "POSTGRES_PASSWORD": "0123abcd",  # noqa: S105 - a made-up one, as the README makes it
    "PUBLIC_HOST": "fhir.example.no",
    "SAMHANDLING_TOKEN_ISSUER": "https://helseid-sts.nhn.no",
}
#: The settings compose.yaml fixes for every adapter process, whatever .env says: the database of the compose
#: network, the public URL (PUBLIC_HOST and PUBLIC_PATH), the one proxy, the routing table's mount, no demo tokens.
FIXED = {
    "SAMHANDLING_DATABASE_URL",
    "SAMHANDLING_BASE_URL",
    "SAMHANDLING_TRUSTED_PROXIES",
    "SAMHANDLING_ROUTES_FILE",
    "SAMHANDLING_DEMO_ISSUER",
}
#: Where the image keeps its files (the Dockerfile's ENV); .env could move them, deploy/env.example does not offer it.
IMAGE_LAYOUT = {
    "SAMHANDLING_HOME",
    "SAMHANDLING_STANDARDS",
    "SAMHANDLING_CACHE",
    "SAMHANDLING_DATA_DIR",
    "SAMHANDLING_CONFIG",
}


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether ``path`` (relative to the build context) is left out of it by .dockerignore ``patterns``, by Docker's
    rules: each pattern is a path from the context's root (``*`` and ``?`` within one name, ``**`` any number of
    names), matching a file or a folder above it, ``!`` an exception, the last matching pattern deciding."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        exception = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip().strip("/")
        regex = ""
        for piece in re.split(r"(\*\*/?|\*|\?)", pattern):
            if piece.startswith("**"):
                regex += "(?:.*/)?" if piece.endswith("/") else ".*"
            elif piece == "*":
                regex += "[^/]*"
            elif piece == "?":
                regex += "[^/]"
            else:
                regex += re.escape(piece)
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not exception
    return excluded


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
        assert env_files(compose["services"][name]) == [".env"], name
    app = envs["app"]
    assert app["SAMHANDLING_TRUSTED_PROXIES"] == "1"  # the proxy, and only it
    assert app["SAMHANDLING_BASE_URL"] == "https://${PUBLIC_HOST:?set PUBLIC_HOST in .env}${PUBLIC_PATH:-}"
    assert (
        app["SAMHANDLING_DATABASE_URL"].startswith("postgresql://")
        and "@postgres:5432/" in app["SAMHANDLING_DATABASE_URL"]
    )
    assert app["SAMHANDLING_ROUTES_FILE"] == "/config/routes.yaml"  # a production serve needs routes ...
    assert app["SAMHANDLING_TOKEN_ISSUER"].startswith("${SAMHANDLING_TOKEN_ISSUER:?")  # ... and an issuer's keys
    assert app["SAMHANDLING_DEMO_ISSUER"] == "false"  # whatever .env says: no demo tokens in production


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
    # the replicas share one store: a 503 from one (store away, a schema of another release during an upgrade) is
    # every one's, and counted against them it took them all out for 30 s after one /health/ready through here
    unhealthy = re.search(r"^\s*unhealthy_status (.+)$", caddyfile, re.MULTILINE)
    assert not unhealthy or "503" not in unhealthy.group(1).split()
    assert re.search(
        r"^\s*fail_duration \d+s$", caddyfile, re.MULTILINE
    )  # a replica that drops connections is left out


def test_the_readme_names_only_real_settings_and_services(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running in production\n", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\bSAMHANDLING_[A-Z_]+[A-Z]\b", section))
    assert "SAMHANDLING_BASE_URL" in named and not named - settings_variables(), sorted(named - settings_variables())
    services = set(re.findall(r"docker compose (?:run|exec|restart|logs)(?: -\S+)* ([a-z][a-z-]*)", section))
    services |= set(re.findall(r"--scale ([a-z-]+)=", section))
    assert services and services <= set(compose["services"]), sorted(services - set(compose["services"]))


def test_a_jwks_url_alone_gives_the_token_keys(compose: dict[str, Any]) -> None:
    """The README offers the issuer's keys by JWKS URL and/or a file: with only the URL in .env, no keys file is
    named (one that is not there stops the service, ADP-0003); with the file named in .env, it is that one."""
    jwks = "https://helseid-sts.nhn.no/.well-known/openid-configuration/jwks"
    for name in ("app", "worker", "migrate"):
        service = compose["services"][name]
        only_url = Settings.from_env(
            container_environment(service, {**MINIMAL_DOTENV, "SAMHANDLING_TOKEN_JWKS_URL": jwks})
        )
        assert (only_url.token_jwks_url, only_url.token_keys_file) == (jwks, ""), name
        keys = "/config/token-keys.json"
        in_file = {**MINIMAL_DOTENV, "SAMHANDLING_TOKEN_KEYS_FILE": keys}
        assert Settings.from_env(container_environment(service, in_file)).token_keys_file == keys, name


def test_every_setting_in_dotenv_reaches_every_adapter_process(compose: dict[str, Any]) -> None:
    """Each setting of adapter/config.py an operator puts in .env is what the containers get, but those compose
    fixes (FIXED); so the README's "put it in .env" holds for every one of them."""
    known = settings_variables()
    dotenv = {**MINIMAL_DOTENV, **{name: f"value-of-{name.lower()}" for name in known}}
    for name in ADAPTER_SERVICES:
        got = container_environment(compose["services"][name], dotenv)
        overridden = {setting for setting in known if got.get(setting) != dotenv[setting]}
        assert overridden == FIXED, f"{name}: compose sets otherwise than .env: {sorted(overridden ^ FIXED)}"
        assert set(environment(compose["services"][name])) >= FIXED, name
    app = container_environment(compose["services"]["app"], {**MINIMAL_DOTENV, "PUBLIC_PATH": "/fhir"})
    assert app["SAMHANDLING_BASE_URL"] == "https://fhir.example.no/fhir"
    assert container_environment(compose["services"]["app"], MINIMAL_DOTENV)["SAMHANDLING_BASE_URL"] == (
        "https://fhir.example.no"
    )


def test_the_env_example_offers_every_setting_that_reaches_the_services_and_no_secret(compose: dict[str, Any]) -> None:
    text = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    offered = re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE)
    names = [name for name, _ in offered]
    assert len(names) == len(set(names)), "a setting is offered twice"
    settings = {name for name in names if name.startswith("SAMHANDLING_")}
    expected = settings_variables() - FIXED - IMAGE_LAYOUT
    assert settings == expected, f"missing: {sorted(expected - settings)}, not settings: {sorted(settings - expected)}"
    assert set(names) - settings == {"POSTGRES_PASSWORD", "PUBLIC_HOST", "PUBLIC_PATH", "STANDARDS_DIR"}
    values = dict(offered)
    assert values["POSTGRES_PASSWORD"] == "", "the example holds no password"  # noqa: S105
    assert "PRIVATE KEY" not in text and "BEGIN" not in text
    # every name is explained in a comment line right above it (no comment after a value: compose would take it in)
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^#? ?[A-Z][A-Z0-9_]*=", line):
            above = lines[number - 1] if number else ""
            assert above.startswith("# ") and "=" not in above.split()[1], f"{line}: no comment above it"
    # the lines set (not commented out) are what compose needs; the settings they give are accepted
    dotenv = {name: value for name, value in re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE)}
    assert set(MINIMAL_DOTENV) <= set(dotenv)
    filled = {**dotenv, "POSTGRES_PASSWORD": "0123abcd"}
    Settings.from_env(container_environment(compose["services"]["app"], filled))


def test_the_readme_sends_to_dotenv_only_settings_that_get_there() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running in production\n", 1)[1].split("\n## ", 1)[0]
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z`(*-])", " ".join(section.split()))  # sentences and bullets
    to_dotenv = {
        name
        for sentence in sentences
        if ".env" in sentence
        for name in re.findall(r"\bSAMHANDLING_[A-Z_]+[A-Z]\b", sentence)
    }
    assert "SAMHANDLING_TOKEN_JWKS_URL" in to_dotenv and "SAMHANDLING_TOKEN_KEYS_FILE" in to_dotenv
    assert to_dotenv <= settings_variables() - FIXED, sorted(to_dotenv & FIXED)
    assert "deploy/env.example" in section


def test_no_operator_command_of_the_readme_upgrades_the_schema(compose: dict[str, Any]) -> None:
    """``docker compose run`` starts a service's dependencies first: one that depends on ``migrate`` would upgrade
    the schema before the backup the README asks for. Every run in the README is ``--no-deps`` or of a service
    without that dependency (``migrate`` itself, run on purpose in the upgrade steps)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Running in production\n", 1)[1].split("\n## ", 1)[0]
    runs = re.findall(r"docker compose (?:--profile \S+ )*run((?: -\S+)*) ([a-z][a-z-]*)", " ".join(section.split()))
    assert len(runs) >= 4, runs  # db current, outbox list, outbox retry, migrate
    for options, name in runs:
        depends = compose["services"][name].get("depends_on") or {}
        assert "--no-deps" in options.split() or "migrate" not in depends, f"run {options} {name}"
    assert ("--rm --no-deps", "worker") in {(o.strip(), n) for o, n in runs}


def test_metrics_are_refused_under_any_path_the_proxy_serves(caddyfile: str) -> None:
    """The refusal matches every path that ends in /metrics, and sits in the block with the reverse_proxy, before
    it: whether that block is the site's ``route`` or the ``handle_path /fhir/* { ... }`` the README offers, a
    request for /metrics or /fhir/metrics never reaches a replica (tried with Caddy 2.6: /metrics, /fhir/metrics,
    /fhir/METRICS, /fhir/%6detrics, /fhir//metrics all 404 in both)."""
    lines = [line.strip() for line in caddyfile.splitlines() if line.strip()]
    proxy = lines.index("reverse_proxy {")
    depth, opening = 0, None
    for number in range(proxy - 1, -1, -1):  # the block that holds the reverse_proxy
        depth += lines[number].count("}") - lines[number].count("{")
        if depth < 0:
            opening = number
            break
    assert opening is not None and lines[opening] == "route {", "the reverse_proxy is in a route block (written order)"
    inside = lines[opening + 1 : proxy]
    matchers = {m.group(1): m.group(2).split() for m in map(re.compile(r"^@(\w+) path (.+)$").match, inside) if m}
    refused = [m.group(1) for m in map(re.compile(r"^respond @(\w+) 404$").match, inside) if m]
    assert refused and "*/metrics" in matchers.get(refused[0], []), inside
    # Caddy takes only a token starting with / (or @, or a lone *) as a matcher: `respond */metrics 404` would
    # answer every request 200 with the body "*/metrics"; an exact /metrics is one prefix too few
    assert not re.search(r"respond (?!@)\S*metrics", caddyfile)


def test_the_build_context_leaves_out_secrets_and_patient_data() -> None:
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for path in (
        ".env",
        "deploy/certs/privkey.pem",
        "deploy/config/token-keys.json",
        "deploy/config/helseid-key.pem",
        "deploy/env.example",
        ".data/samhandling.sqlite",
        ".data/demo-issuer-key.pem",
        ".cache/x",
        ".git/config",
        "tests/browser/node_modules/x/package.json",
        "tests/clients/node_modules/x/package.json",
        "profiles/sushi/node_modules/fsh-sushi/package.json",
        "adapter/__pycache__/cli.cpython-311.pyc",
        "adapter/api/__pycache__/health.cpython-311.pyc",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/x",
        ".hypothesis/examples/x",
        "tests/test_compose.py",
    ):
        assert dockerignored(path, patterns), f"{path} goes into the image's build context"


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [s for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE) for s in line.split()[:-1]]
    assert "adapter" in sources and "profiles/resources" in sources, sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source, patterns), f"{source} is copied but left out of the context"
        if (ROOT / source).is_dir():
            files = [f for f in (ROOT / source).rglob("*") if f.is_file() and "__pycache__" not in f.parts]
            assert files, source
            left_out = [str(f.relative_to(ROOT)) for f in files if dockerignored(str(f.relative_to(ROOT)), patterns)]
            assert not left_out, left_out[:5]


def test_the_dockerignore_matching_follows_dockers_rules() -> None:
    """The matcher above, on Docker's documented examples (a pattern from the root; ``**``; ``!``)."""
    assert dockerignored("a/b", ["a"]) and not dockerignored("b/a", ["a"])
    assert dockerignored("x/y/__pycache__/z.pyc", ["**/__pycache__"]) and dockerignored(
        "__pycache__/z", ["**/__pycache__"]
    )
    assert dockerignored("temp1/x.md", ["*/temp*"]) is False and dockerignored("s/temp1", ["*/temp*"])
    assert not dockerignored("README.md", ["*.md", "!README.md"]) and dockerignored("a.md", ["*.md", "!README.md"])


def test_the_readme_token_commands_work(tmp_path: Path) -> None:
    """Every token the README makes from the demo issuer (``samhandling token ...``) is made as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = re.findall(r"(?:\$\(|`)samhandling token ([^)`\n]+)[)`]", readme)
    assert len(commands) >= 4, commands
    for command in commands:
        words = shlex.split(command)
        result = CliRunner().invoke(
            main, ["token", *words], env={"SAMHANDLING_DEMO_ISSUER": "true", "SAMHANDLING_DATA_DIR": str(tmp_path)}
        )
        assert result.exit_code == 0, f"samhandling token {command}: {result.output}"
        assert jwt.decode(result.output.strip(), options={"verify_signature": False})["exp"]
