"""Realistic instances and simulated years of weekly rounds.

- :mod:`optimizer.sim.calibration`: the national and city figures, with their sources;
- :mod:`optimizer.sim.generate`: the presets, :func:`~optimizer.sim.generate.generate` and
  :func:`~optimizer.sim.generate.duplicated`;
- :mod:`optimizer.sim.world`: the persistent world of a simulation
  (:class:`~optimizer.sim.world.World`, :func:`~optimizer.sim.world.world`);
- :mod:`optimizer.sim.simulate`: ``anvis simulate``.

Nothing is re-exported here, so that importing one module does not load the others
(the CLI imports them lazily).
"""
