# Ask Panel — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run dev test fuzz doctor bench clean

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

install: $(STAMP)

## Installs, starts embedded Postgres+Redis (unless DATABASE_URL/REDIS_URL), migrates,
## loads the agent catalog, seeds the demo tenants, serves web + worker. Ctrl-C stops all.
run: install
	$(PY) -m config.launcher serve

## The same with Django's development server, which reloads on code changes.
dev: install
	$(PY) -m config.launcher dev

## Installs and runs the whole suite against real Postgres and Redis (embedded by default,
## in .data/test so a running `make run` is not disturbed).
test: install
	ASKPANEL_DATA_DIR=$${ASKPANEL_DATA_DIR:-.data/test} MEDIA_ROOT=$${MEDIA_ROOT:-.data/test/media} $(PY) -m config.launcher exec -- $(PY) -m pytest $(PYTEST_ARGS)

## A longer schemathesis run than the suite's (tests/api/test_schemathesis.py): 10 minutes,
## a new seed each time; FUZZ_MAX_TIME, FUZZ_MAX_EXAMPLES and FUZZ_SEED override.
fuzz: install
	FUZZ_MAX_TIME=$${FUZZ_MAX_TIME:-600} FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-300} FUZZ_SEED=$${FUZZ_SEED:-random} \
		$(MAKE) test PYTEST_ARGS="tests/api/test_schemathesis.py --timeout 0"

doctor: install
	$(PY) manage.py doctor

bench: install
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf .data/test
