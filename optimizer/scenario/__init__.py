"""What-if scenarios for negotiators: changes to an instance, variants, sweeps and grids, prices of limits.

- :mod:`optimizer.scenario.changes`: changes applied to an instance, one term at a time.

Nothing is re-exported here, so that importing one module does not load the others.
"""
