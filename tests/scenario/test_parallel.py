"""Variants in parallel (optimizer.scenario.parallel): the same results document as the serial run, byte for byte,
however the work is split (pool or Dask, workers, chunks, start method)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import optimizer.scenario.parallel as parallel
from models.io import dump_json
from optimizer.scenario.parallel import chunks, run_parallel, solve_variants
from optimizer.scenario.scenario import read_scenario, results_document, run_scenario

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-scenario.toml"

YEAR = """
horizon = "year"

[year]
weeks = 2
seeds = [0, 1]
scale = 0.02

[[variant]]
name = "no frames"
changes = [{ term = "subsidy_frame", municipality = "*", value = 0 }]
"""


@pytest.fixture(scope="module")
def scen():
    return read_scenario(DEMO)


@pytest.fixture(scope="module")
def serial(scen) -> str:
    return json.dumps(run_scenario(scen), indent=1)


def steps(seen: list[tuple[int, int]], n: int) -> list[int]:
    """The progress calls' counts, checked: all of n, rising to n, one call per chunk."""
    assert all(total == n for _, total in seen)
    counts = [done for done, _ in seen]
    assert counts == sorted(set(counts)) and counts[-1] == n
    return [b - a for a, b in zip([0, *counts], counts, strict=False)]


def test_local_pool_of_two_workers_equals_serial(scen, serial):
    seen: list[tuple[int, int]] = []
    doc = run_scenario(scen, jobs=2, progress=lambda done, total: seen.append((done, total)))
    assert json.dumps(doc, indent=1) == serial
    n = len(doc["results"])
    # one call per chunk: the default chunks of 2 workers
    assert sorted(steps(seen, n)) == sorted(b - a for a, b in chunks(n, 2))


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
@pytest.mark.parametrize("given", [True, False], ids=["instances", "changes"])
def test_any_chunking_and_either_transport_equals_serial(scen, serial, chunk_size, given):
    """Forked workers solve the instances given; without them each applies the changes to the base."""
    changes = [v.changes for v in scen.variants]
    seen: list[tuple[int, int]] = []
    outcomes = solve_variants(
        scen.base,
        changes,
        scen.instances if given else None,
        jobs=2,
        chunk_size=chunk_size,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert json.dumps(results_document(scen, outcomes), indent=1) == serial
    n = len(changes)
    assert sorted(steps(seen, n)) == sorted(b - a for a, b in chunks(n, 2, chunk_size))


def test_spawned_workers_get_the_base_once_and_equal_serial(scen, serial, monkeypatch):
    """Where fork is unsafe (macOS, Windows) the workers are spawned: the base is pickled to each once."""
    monkeypatch.setattr(parallel, "START_METHOD", "spawn")
    doc = run_scenario(scen, jobs=2)
    assert json.dumps(doc, indent=1) == serial


def test_year_horizon_on_the_pool_equals_serial(tmp_path):
    path = tmp_path / "year.toml"
    path.write_text(YEAR)
    scen = read_scenario(path)
    assert dump_json(run_scenario(scen, jobs=2)) == dump_json(run_scenario(scen))


def test_running_scheduler_by_address_equals_serial(scen, serial):
    pytest.importorskip("distributed")
    from dask.distributed import LocalCluster

    seen: list[tuple[int, int]] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        doc = run_scenario(scen, scheduler=cluster.scheduler_address, progress=lambda d, t: seen.append((d, t)))
        n = len(doc["results"])
        assert sorted(steps(seen, n)) == sorted(b - a for a, b in chunks(n, 2))
        assert json.dumps(doc, indent=1) == serial
        one = solve_variants(
            scen.base, [v.changes for v in scen.variants], scheduler=cluster.scheduler_address, chunk_size=1
        )
    assert json.dumps(results_document(scen, one), indent=1) == serial


def square(x: int, *, offset: int, fail: int = -1) -> dict[str, int]:
    """A task for the pool; fails on ``fail``, to show a worker's error reaches the caller."""
    if x == fail:
        raise ArithmeticError("thirteen")
    return {"x": x, "y": x * x + offset}


def test_results_in_order_and_a_workers_error_raised():
    items = list(range(30))
    out = run_parallel(square, items, jobs=2, chunk_size=4, offset=1)
    assert out == [{"x": x, "y": x * x + 1} for x in items]
    assert run_parallel(square, [], jobs=2, offset=1) == []
    with pytest.raises(ArithmeticError, match="thirteen"):
        run_parallel(square, list(range(20)), jobs=2, chunk_size=2, offset=0, fail=13)


def solve_threads(x: int) -> dict[str, int]:
    """A task for the pool: the ``threads`` a solve that names none would use here."""
    from optimizer.engine.solve import default_threads

    return {"x": x, "threads": default_threads()}


def test_pool_workers_solve_each_instances_blocks_in_one_thread():
    """The workers are the parallelism: a solve in them starts no threads of its own (the parent's default stays)."""
    from optimizer.engine.solve import threads_default

    with threads_default(2):  # as on a machine of two cores, whatever this one has
        assert run_parallel(solve_threads, [1, 2, 3], jobs=2, chunk_size=1) == [
            {"x": x, "threads": 1} for x in (1, 2, 3)
        ]
        assert solve_threads(0)["threads"] == 2


def test_chunks_cover_the_items_in_order():
    assert chunks(10, 2, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert chunks(201, 2) == [(a, min(a + 26, 201)) for a in range(0, 201, 26)]  # 4 a worker
    assert chunks(3, 2) == [(0, 1), (1, 2), (2, 3)]
    assert chunks(0, 2) == []


def test_jobs_and_chunk_size_must_be_positive(scen):
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        run_scenario(scen, jobs=0)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        run_parallel(square, [1], jobs=2, chunk_size=0, offset=0)
    with pytest.raises(ValueError, match="2 instances for 3 variants"):
        solve_variants(scen.base, [(), (), ()], scen.instances[:2])


def test_the_fork_leaves_the_garbage_collector_as_it_found_it():
    """The pool freezes the parent's objects for the fork and thaws only what it froze."""
    import gc

    # an in-process `anvis solve` earlier in the session leaves its objects frozen (on purpose)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    run_parallel(square, list(range(5)), jobs=2, offset=0)
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a caller's own freeze is kept
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert run_parallel(square, [2], jobs=2, offset=0) == [{"x": 2, "y": 4}]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
