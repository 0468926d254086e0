"""The pages' templates: one Jinja2 environment, and :func:`render` with the request's CSRF token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from optimizer import lang as L
from optimizer.serve.service import OVERRIDE_ACTIONS, PLAN_STATUS, REASON_TEXT, STATUS_TEXT

__all__ = ["environment", "kr", "render", "when"]


def environment() -> jinja2.Environment:
    """The templates of :mod:`optimizer.serve` (``templates/``), autoescaped, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("optimizer.serve", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["STATUS_TEXT"] = STATUS_TEXT
    env.globals["ACTIONS"] = OVERRIDE_ACTIONS
    env.globals["REASONS"] = REASON_TEXT
    env.globals["PLAN_STATUS"] = PLAN_STATUS
    env.filters["kr"] = kr
    env.filters["num"] = num
    env.filters["when"] = when
    return env


def kr(x: Any) -> str:
    """An amount in whole kroner the Danish way (:func:`optimizer.lang.kr`: ``3.690 kr.``); a dash for none."""
    return "–" if x is None else L.kr(x, "da")


def num(x: Any) -> str:
    """A score or share with a decimal comma (:func:`optimizer.lang.short`: ``78``, ``83,5``); empty for none."""
    return "" if x is None else L.short(x, "da")


def when(stamp: str | None) -> str:
    """A stored UTC time (ISO) the Danish way, ``29.11.2026 20:40 UTC``; empty for none, as stored if unreadable."""
    if not stamp:
        return ""
    try:
        t = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return t.strftime("%d.%m.%Y %H:%M") + (" UTC" if t.utcoffset() is not None and not t.utcoffset() else "")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from its template, with the request's CSRF token for its forms."""
    templates: Jinja2Templates = request.app.state.templates
    token = request.scope.get("state", {}).get("csrf_token", "")
    return templates.TemplateResponse(request, template, {"csrf_token": token, **context}, status_code=status_code)
