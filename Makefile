# Two commands that work on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test scale-test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	@.ci/system-libs
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/carebudget serve

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Several hosts as network namespaces (needs root and the PostgreSQL at 127.0.0.1:5432); not in `test`.
scale-test: $(STAMP)
	$(BIN)/python -m tests.scale

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check carebudget workflows activities worker.py tests bench
	$(BIN)/mypy carebudget workflows activities worker.py

clean:
	rm -rf $(VENV) var .pytest_cache
