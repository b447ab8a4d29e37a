"""`manage.py check --deploy` passes with the production settings the README lists, and
fails with the development defaults `make run` uses (so it does check something); with
DEBUG off the settings refuse a well-known development SECRET_KEY."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

# The README's "Production settings", behind a proxy that terminates TLS.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "BEHIND_TLS_PROXY": "true",
}


def _manage(*args: str, **settings: str) -> subprocess.CompletedProcess:
    """manage.py with the development defaults, except the `settings` given."""
    env = {name: value for name, value in os.environ.items() if name not in PRODUCTION_ENV}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**env, **settings}, check=False,
                          capture_output=True, text=True, timeout=180)


def test_check_deploy_passes_with_the_production_settings():
    checked = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_check_deploy_fails_with_the_development_defaults():
    checked = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert checked.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert warning in checked.stderr, checked.stderr


@pytest.mark.parametrize("key", ["askpanel-insecure-development-key-do-not-use-in-production",
                                 "django-insecure-" + "x1y2z3" * 10])
def test_debug_off_refuses_a_development_secret_key(key):
    refused = _manage("check", **{**PRODUCTION_ENV, "SECRET_KEY": key})
    assert refused.returncode != 0
    assert "SECRET_KEY is a well-known development key" in refused.stderr
