"""Fixtures of the serve tests: a client over the test's ledger (``db``: the root conftest's, or a module's own)."""

from __future__ import annotations

import pytest
from serve_helpers import client_for


@pytest.fixture
def client(db):
    """A client of the app over ``db``; waits for its background solves before the ledger goes."""
    with client_for(db) as c:
        yield c
        c.app.state.solves.join()
