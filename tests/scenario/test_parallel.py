"""Variants on Dask (optimizer.scenario.parallel): the same results document as the serial run, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.scenario.scenario import read_scenario, run_scenario

pytest.importorskip("distributed")

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-scenario.toml"


@pytest.fixture(scope="module")
def serial() -> str:
    return json.dumps(run_scenario(read_scenario(DEMO)), indent=1)


def test_local_cluster_of_two_workers_equals_serial(serial):
    seen = []
    doc = run_scenario(read_scenario(DEMO), jobs=2, progress=lambda done, total: seen.append((done, total)))
    assert json.dumps(doc, indent=1) == serial
    n = len(doc["results"])
    assert seen == [(i, n) for i in range(1, n + 1)]


def test_running_scheduler_by_address_equals_serial(serial):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        doc = run_scenario(read_scenario(DEMO), scheduler=cluster.scheduler_address)
    assert json.dumps(doc, indent=1) == serial


def test_jobs_must_be_positive():
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        run_scenario(read_scenario(DEMO), jobs=0)
