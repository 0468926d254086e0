"""``anvis serve``: a local web app in Danish over the ledger, for planners.

The pages (rounds, upload, plan, citizen, overrides, commit, history) and the JSON API
under ``/api`` call the same functions as ``anvis round ...``
(:mod:`optimizer.rounds.workflow`), so a round handled in the browser is the round the
CLI shows. :func:`create_app` builds the app; :mod:`~optimizer.serve.security` keeps it
local (Host and Origin checks, CSRF tokens, an upload limit).
"""

from optimizer.serve.app import create_app

__all__ = ["create_app"]
