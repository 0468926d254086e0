# Quick start: `make demo`, then `make test`. Only Python 3.10+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench bench-smoke clean

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

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider tests

bench: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds

bench-smoke: $(STAMP)
	ANVIS_BENCH_SMOKE=1 $(BIN)/pytest -q -p no:cacheprovider benchmarks --benchmark-disable

clean:
	rm -rf $(VENV) plans .pytest_cache .benchmarks .hypothesis
