"""What-if scenarios for negotiators: changes to an instance, variants, sweeps and grids, prices of limits.

- :mod:`optimizer.scenario.changes`: changes applied to an instance, one term at a time;
- :mod:`optimizer.scenario.scenario`: scenario files (TOML) read, checked and solved;
- :mod:`optimizer.scenario.outcome`: one variant solved and summed up;
- :mod:`optimizer.scenario.parallel`: variants solved on a local process pool or a Dask cluster
  (the only module importing Dask);
- :mod:`optimizer.scenario.compare`: the comparison table, its CSV and HTML with plots;
- :mod:`optimizer.scenario.prices`: the exact gain of one more and one fewer of every binding limit.

Nothing is re-exported here, so that importing one module does not load the others.
"""
