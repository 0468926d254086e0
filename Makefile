# Quick start: `make demo`, then `make test`. Only Python 3.10+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p plans
	$(BIN)/anvis validate instances/demo-week.json
	$(BIN)/anvis solve instances/demo-week.json -o plans/demo-week.plan.json
	$(BIN)/anvis check instances/demo-week.json plans/demo-week.plan.json
	$(BIN)/anvis report instances/demo-week.json plans/demo-week.plan.json -o plans/demo-week.html

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	@mkdir -p .benchmarks
	$(BIN)/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning benchmarks --benchmark-only \
		--benchmark-columns=min,median,max,rounds --benchmark-json=.benchmarks/latest.json
	$(BIN)/python benchmarks/report.py .benchmarks/latest.json benchmarks/RESULTS.md

bench-smoke: $(STAMP)
	ANVIS_BENCH_SMOKE=1 $(BIN)/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning benchmarks --benchmark-disable

clean:
	rm -rf $(VENV) plans .pytest_cache .benchmarks .hypothesis
