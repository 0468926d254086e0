#!/usr/bin/env bash
# Hashes of every plan a refactoring must leave byte-identical.
#
#   benchmarks/plan_hashes.sh REPO OUTDIR
#
# Generates every classic preset at seed 0 as anvis/1 (and `small` with scores), solves them, and
# solves the worked examples e1-e4 and instances/* on HiGHS (auto), CP-SAT and CBC, with
# REPO's own .venv/bin/anvis; writes OUTDIR/SHA256SUMS. Run it on two checkouts (e.g. a
# `git worktree` of the commit before a change) and `diff` the two SHA256SUMS.
set -euo pipefail
repo=$(cd "$1" && pwd); out=$2; mkdir -p "$out"
anvis=$repo/.venv/bin/anvis
for p in tiny small national-week city-week city-year; do
  "$anvis" generate "$p" -o "$out/$p.json" --seed 0 --format anvis/1
  "$anvis" solve "$out/$p.json" -o "$out/$p.plan.json" -q
done
"$anvis" generate small -o "$out/small-scores.json" --seed 1 --scores --format anvis/1
"$anvis" solve "$out/small-scores.json" -o "$out/small-scores.plan.json" -q
for f in "$repo"/../shared/spec/examples/e[1-4]*.json "$repo"/instances/*.json; do
  b=$(basename "$f" .json)
  "$anvis" solve "$f" -o "$out/ex-$b.plan.json" -q
  for backend in cpsat cbc; do "$anvis" solve "$f" -o "$out/ex-$b.$backend.plan.json" -q --backend "$backend"; done
done
(cd "$out" && sha256sum ./*.json > SHA256SUMS)
