"""The production stack files in ``deploy/`` stay in step with the settings.

A variable the settings read but the environment template leaves out is one an
operator never hears of; a unit that starts a program outside the virtualenv, or
reads its environment from another file than the README names, fails on the
first start of a real installation.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_TEMPLATE = DEPLOY / "ruilkring.env.example"
UNITS = sorted(DEPLOY.glob("*.service"))
VENV_BIN = "/opt/ruilkring/.venv/bin/"

# Every module that reads the environment when the site or a job process starts.
# settings/test.py is left out: it is the test suite's, never an installation's.
ENVIRONMENT_READERS = [
    *(
        path
        for path in sorted((ROOT / "ruilkring" / "settings").glob("*.py"))
        if path.name != "test.py"
    ),
    ROOT / "ruilkring" / "celery.py",
]
ENV_READ = re.compile(
    r"""(?:
        \benv(?:\.(?:str|bool|int|float|list|tuple|dict|json|url|db|db_url|cache|cache_url
            |email|email_url|search_url|path))?\(
        | \bos\.environ(?:\.get|\.setdefault)?[\[(]
        | \bos\.getenv\(
    )\s*["']([A-Z][A-Z0-9_]*)["']""",
    re.VERBOSE,
)
# "NAME=value", or "#NAME=value" for a variable left at its default.
TEMPLATE_ASSIGNMENT = re.compile(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
UNIT_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in ENVIRONMENT_READERS:
        names.update(ENV_READ.findall(path.read_text(encoding="utf-8")))
    return names


def _template_variables() -> set[str]:
    return {name for name, _value in TEMPLATE_ASSIGNMENT.findall(ENV_TEMPLATE.read_text())}


def _template_values() -> dict[str, str]:
    """The lines that are set (not commented out), read as systemd reads them."""
    values = {}
    for line in ENV_TEMPLATE.read_text().splitlines():
        match = TEMPLATE_ASSIGNMENT.match(line)
        if match and not line.startswith("#"):
            name, value = match.groups()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            values[name] = value
    return values


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(), source=str(path))
    return parser


def _service_values(path: Path, key: str) -> list[str]:
    """Every value of a [Service] key, also when it is given more than once."""
    pattern = re.compile(rf"^{key}=(.*)$", re.MULTILINE)
    return pattern.findall(path.read_text())


def _environment_file_in_readme() -> str:
    readme = (DEPLOY / "README.md").read_text()
    paths = set(re.findall(r"(/etc/ruilkring/[\w.-]+\.env)\b", readme))
    assert len(paths) == 1, f"deploy/README.md should name one environment file, names {paths}"
    return paths.pop()


def test_the_scan_finds_the_variables_it_must():
    names = _variables_read_by_the_code()
    assert {
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "DJANGO_ACCESSIBILITY_LIMITATIONS",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
    } <= names


def test_every_variable_the_settings_read_is_in_the_env_template():
    missing = _variables_read_by_the_code() - _template_variables()
    assert not missing, f"add these to deploy/ruilkring.env.example: {sorted(missing)}"


def test_every_variable_a_unit_uses_is_in_the_env_template_with_a_default_in_the_unit():
    documented = _template_variables()
    for path in UNITS:
        exec_start = _unit(path)["Service"]["ExecStart"]
        defaults = {value.split("=", 1)[0] for value in _service_values(path, "Environment")}
        for name in UNIT_VARIABLE.findall(exec_start):
            assert name in documented, f"{path.name} uses ${{{name}}}, not in the template"
            assert name in defaults, f"{path.name} uses ${{{name}}} without Environment= default"


def test_the_env_template_sets_the_production_settings_and_they_load():
    values = _template_values()
    assert values["DJANGO_SETTINGS_MODULE"] == "ruilkring.settings.production"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **values},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]


def test_each_unit_runs_from_the_virtualenv_as_the_service_user_with_the_readme_env_file():
    assert {path.name for path in UNITS} == {
        "ruilkring-web.service",
        "ruilkring-worker.service",
        "ruilkring-beat.service",
    }
    environment_file = _environment_file_in_readme()
    for path in UNITS:
        service = _unit(path)["Service"]
        program = service["ExecStart"].split()[0]
        assert program.startswith(VENV_BIN), f"{path.name} starts {program}"
        assert service["User"] == "ruilkring"
        assert service["WorkingDirectory"] == "/opt/ruilkring"
        assert service["EnvironmentFile"] == environment_file
        assert service["NoNewPrivileges"] == "true"
        assert service["ProtectSystem"] == "strict"


def test_the_web_unit_serves_the_wsgi_application_and_beat_keeps_its_schedule_in_state():
    web = _unit(DEPLOY / "ruilkring-web.service")["Service"]
    assert web["ExecStart"].split()[:2] == [f"{VENV_BIN}gunicorn", "ruilkring.wsgi"]
    beat = _unit(DEPLOY / "ruilkring-beat.service")["Service"]
    assert beat["StateDirectory"] == "ruilkring"
    assert "--schedule /var/lib/ruilkring/" in " ".join(beat["ExecStart"].split())


def test_systemd_accepts_the_units_where_systemd_analyze_is_installed():
    for path in UNITS:
        assert _unit(path).has_section("Install")
    analyzer = shutil.which("systemd-analyze")
    if analyzer is None:
        return
    result = subprocess.run(
        [analyzer, "verify", "--man=no", *map(str, UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Outside a real installation the virtualenv in /opt is missing; that alone is fine.
    missing_program = re.compile(
        rf"Command {re.escape(VENV_BIN)}\S+ is not executable: No such file or directory"
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not missing_program.search(line)
    ]
    assert not complaints, "\n".join(complaints)


def test_nginx_passes_https_and_host_takes_a_full_photo_and_adds_no_security_headers():
    site = (DEPLOY / "nginx" / "ruilkring.conf").read_text()
    active = "\n".join(line.split("#", 1)[0] for line in site.splitlines())
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in active
    assert "proxy_set_header Host $host;" in active
    assert "proxy_pass http://" in active
    size = re.search(r"client_max_body_size\s+(\d+)([km]?);", active)
    assert size is not None
    number, unit = size.groups()
    limit = int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]
    assert limit > settings.RUILKRING_PHOTO_MAX_BYTES
    assert "add_header" not in active
