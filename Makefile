# Quick start: `make demo`, then `make test`. Only Python 3.10+ is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench bench-smoke bytecode clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# An editable install leaves anvis's own modules uncompiled, and where PYTHONDONTWRITEBYTECODE
# is set (as on CI machines) every `anvis` process would compile them again (0.05-0.08 s of a
# 0.6 s national week). pip compiles a regular install; this does the same, and only for files
# changed since (compileall compares the timestamps), so it costs nothing when up to date.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q optimizer models benchmarks >/dev/null

demo: bytecode
	@mkdir -p plans
	$(BIN)/anvis validate instances/demo-week.json
	$(BIN)/anvis solve instances/demo-week.json -o plans/demo-week.plan.json
	$(BIN)/anvis check instances/demo-week.json plans/demo-week.plan.json
	$(BIN)/anvis report instances/demo-week.json plans/demo-week.plan.json -o plans/demo-week.html

test: bytecode
	$(BIN)/pytest -q -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bytecode
	@mkdir -p .benchmarks
	$(BIN)/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning benchmarks --benchmark-only \
		--benchmark-columns=min,median,max,rounds --benchmark-json=.benchmarks/latest.json
	$(BIN)/python benchmarks/report.py .benchmarks/latest.json benchmarks/RESULTS.md

bench-smoke: bytecode
	ANVIS_BENCH_SMOKE=1 $(BIN)/pytest -q -p no:cacheprovider -W ignore::DeprecationWarning benchmarks --benchmark-disable

clean:
	rm -rf $(VENV) plans .pytest_cache .benchmarks .hypothesis
