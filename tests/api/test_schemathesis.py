"""Schemathesis against the served schema with every check on (server errors, status codes,
content types, response headers and bodies against their schemas, bad data refused, good
data accepted, auth not ignored, ...): the API does what its schema says, for data nobody
wrote by hand.

The suite's run is bounded and seeded (the same cases every time); `make fuzz` runs the
same test longer with a new seed each time: FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME (seconds)
and FUZZ_SEED override the bounds, FUZZ_ARGS adds schemathesis options (a filter, a report).
What the schema cannot say (NUL bytes, refusals that depend on data) is in schemathesis.toml."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.api.conftest import ApiSite, tenant_site
from tests.conftest import make_token

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SETTINGS = Path(__file__).with_name("schemathesis.toml")  # only what the schema cannot say
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))  # per operation
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "45"))  # seconds for the whole run
SEED = os.environ.get("FUZZ_SEED", "20261130")  # "random": a new one each run
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def fuzzed_site(web_server, catalog, celery_worker):
    """A tenant of its own for the fuzzer's writes, signed in as its admin so admin-only
    operations are reached too. The panels it creates run in the worker, two at a time
    (then 429 limit_exceeded), so the worker is free again soon after the run."""
    with tenant_site(web_server, "apifuzz", username="fuzz-admin", is_admin=True,
                     limits={"max_concurrent_panels": 2}) as site:
        yield site


@pytest.fixture(scope="module")
def served_schema(fuzzed_site: ApiSite, tmp_path_factory) -> Path:
    """The schema as served on the platform host, saved for the fuzzer."""
    request = urllib.request.Request(fuzzed_site.schema_url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        schema = json.load(response)
    path = tmp_path_factory.mktemp("schemathesis") / "schema.json"
    path.write_text(json.dumps(schema))
    return path


def test_schemathesis_finds_no_failure_with_every_check_on(fuzzed_site, served_schema, tmp_path):
    token = make_token(fuzzed_site.tenant, fuzzed_site.user)
    command = [
        str(SCHEMATHESIS), "--config-file", str(SETTINGS), "run", str(served_schema), "--url", fuzzed_site.origin,
        "--header", f"Host: {fuzzed_site.host}", "--header", f"Authorization: Token {token}",
        # As a gateway client sends it: on a tenant's host X-Tenant-ID may name only that tenant (routing
        # refuses any other before a view runs, tests/tenants/test_routing.py), so the cases reach the views.
        "--header", f"X-Tenant-ID: {fuzzed_site.schema_name}",
        "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_TIME),
        "--workers", "1", "--request-timeout", "30", "--generation-database", "none",
        "--no-color",
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    command += shlex.split(os.environ.get("FUZZ_ARGS", ""))  # e.g. --include-operation-id panels_create
    result = subprocess.run(command, capture_output=True, text=True, timeout=MAX_TIME + 240,
                            cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis (seed {SEED}) on {fuzzed_site.host}:\n{output[-20000:]}"
    operations = sum(1 for item in json.loads(served_schema.read_text())["paths"].values()
                     for method in item if method in HTTP_METHODS)
    tested = re.search(r"^\s*Tested: (\d+)$", output, re.MULTILINE)
    assert tested and int(tested.group(1)) == operations, f"not every operation was tested:\n{output[-5000:]}"
