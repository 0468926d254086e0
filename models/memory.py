"""Pausing Python's cyclic garbage collector around work that allocates much and makes no cycle."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; restore it as it was, also on an error.

    For work that allocates tens of thousands of objects that form no reference cycle
    (records, rows, pieces of text): the collector's passes over them find nothing to
    free, and reference counting frees them as ever. A collector already paused stays so.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
