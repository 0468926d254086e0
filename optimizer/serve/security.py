"""What keeps ``anvis serve`` a local tool: Host and Origin checks, CSRF tokens, an upload limit.

The app has no login: it trusts whoever can reach it, so it must be reachable only
from the planner's own browser. Three attacks reach a local server from a web page
the planner visits, and each has its guard here (one ASGI middleware, in front of
every route):

* **DNS rebinding**: a site's name made to resolve to 127.0.0.1 reads the app as
  "same origin". The browser still sends the site's name as ``Host``, so a request
  whose ``Host`` is not the address (and port) the server is bound to is refused (403).
* **Cross-site requests**: a page elsewhere posts a form or a ``fetch`` to the app.
  The browser names the page's origin in ``Origin`` (and ``Sec-Fetch-Site``); a
  request from another origin is refused (403).
* **CSRF** where a browser sends neither header: every request that changes
  something (POST, PUT, PATCH, DELETE) must carry the token of the ``anvis_csrf``
  cookie, in the form field ``csrf_token`` or the header ``X-CSRF-Token``
  (double-submit: another site can make the browser send the cookie, never read it).

Bodies larger than the upload limit are refused with 413 before they are read
whole (a ``Content-Length`` above it at once, a chunked body once it passes it).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import secrets
import socket
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "MAX_UPLOAD_BYTES",
    "SecurityMiddleware",
    "allowed_hosts",
    "is_loopback",
    "new_token",
]

#: The cookie that holds the CSRF token (double-submit).
CSRF_COOKIE = "anvis_csrf"
#: The form field that repeats it.
CSRF_FIELD = "csrf_token"
#: The header that repeats it (the pages' scripts and API clients).
CSRF_HEADER = "x-csrf-token"
#: The largest request body accepted: a week's workbook is well under a megabyte; a
#: city-year JSON instance (3,000 citizens) is about 3 MB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Methods that change something and need the CSRF token.
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Names of the loopback interface a browser may use for a server bound to it.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

#: Headers of every answer: no framing by other sites (clickjacking), no type guessing, no
#: referrer leaving the machine, and no copy of pages with citizens' data in a cache.
SAFE_HEADERS = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would make browsers send "Origin: null"
    (b"cache-control", b"no-store"),
]


def new_token() -> str:
    """A fresh CSRF token (unguessable, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether a bind address is the loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int | None) -> frozenset[str]:
    """The ``Host`` header values a server bound to ``host`` (and ``port``) answers.

    A server bound to the loopback interface answers its loopback names; one bound to
    another address answers that address only; one bound to every interface
    (``0.0.0.0``, ``::``) answers the loopback names and the machine's own names and
    addresses. With ``port`` the port must be given too (as browsers send it), without
    it any port is accepted.

    Parameters
    ----------
    host
        The address the server listens on (``--host``).
    port
        The port it listens on, or None to accept any.
    """
    names = {_bracketed(host)}
    if is_loopback(host):
        names |= set(LOOPBACK_NAMES)
    if host in ("0.0.0.0", "::", "[::]"):
        names |= set(LOOPBACK_NAMES) | _own_names()
    if port is None:
        return frozenset(names)
    return frozenset(f"{n}:{port}" for n in names)


def _bracketed(host: str) -> str:
    """An IPv6 address as a Host header names it (``[::1]``)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _own_names() -> set[str]:
    """The machine's host names and addresses, as a browser on the network would name it."""
    names = {socket.gethostname(), socket.getfqdn()}
    with contextlib.suppress(OSError):  # a host name that does not resolve: its names only
        names |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    return {_bracketed(n.lower()) for n in names if n}


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers, lower-case names, the first of each kept."""
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _cookie(headers: dict[str, str], name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: as if there were none
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class SecurityMiddleware:
    """The ASGI middleware of the module docstring: Host, Origin, CSRF and the body limit.

    Parameters
    ----------
    app
        The ASGI app it guards.
    hosts
        The accepted ``Host`` values (:func:`allowed_hosts`).
    max_body
        The largest request body in bytes.
    """

    def __init__(self, app: ASGIApp, hosts: frozenset[str], max_body: int = MAX_UPLOAD_BYTES):
        self.app = app
        self.hosts = hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request that fails a check; pass the others on, with a CSRF cookie when they had none."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        if host not in self.hosts:
            await _refuse(send, 403, f"Forkert Host-header ({host!r}): anvis serve svarer kun på sin egen adresse.")
            return
        origin = headers.get("origin")
        if origin is not None and origin not in {f"http://{host}", f"https://{host}"}:
            await _refuse(send, 403, "Forespørgsler fra et andet websted afvises.")
            return
        if headers.get("sec-fetch-site") == "cross-site":
            await _refuse(send, 403, "Forespørgsler fra et andet websted afvises.")
            return
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            await _refuse(send, 400, "Ugyldig Content-Length.")
            return
        if length > self.max_body:
            await _refuse(send, 413, _too_large(self.max_body))
            return
        cookie = _cookie(headers, CSRF_COOKIE)
        token = cookie or new_token()
        scope.setdefault("state", {})["csrf_token"] = token
        if scope["method"] in UNSAFE:
            body, too_large = await _read_body(receive, self.max_body)
            if too_large:
                await _refuse(send, 413, _too_large(self.max_body))
                return
            given = headers.get(CSRF_HEADER) or _form_token(headers, body)
            if not cookie or not given or not hmac.compare_digest(cookie.encode(), given.encode()):
                await _refuse(send, 403, "CSRF-token mangler eller passer ikke: genindlæs siden og prøv igen.")
                return
            receive = _replay(body)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(message.get("headers", []))
                extra += SAFE_HEADERS
                if cookie is None:
                    value = f"{CSRF_COOKIE}={token}; Path=/; SameSite=Strict"
                    extra.append((b"set-cookie", value.encode("latin-1")))
                message["headers"] = extra
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _too_large(limit: int) -> str:
    return f"Filen er for stor: højst {limit // (1024 * 1024)} MB."


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole request body, or (partial, True) once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the app the body read already, then waits as the server's would."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _form_token(headers: dict[str, str], body: bytes) -> str | None:
    """The ``csrf_token`` field of a URL-encoded or multipart form body."""
    kind, options = parse_options_header(headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD)
        return values[0] if values else None
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        return None
    return _multipart_field(options[b"boundary"], body, CSRF_FIELD)


def _multipart_field(boundary: bytes, body: bytes, name: str) -> str | None:
    """The value of the form field ``name`` in a multipart body (files are skipped, not kept)."""
    wanted = name.encode()
    state: dict[str, Any] = {"header": b"", "value": b"", "this": False, "found": None}

    def on_part_begin() -> None:
        state["this"] = False
        state["value"] = b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] = data[start:end].lower()

    def on_header_value(data: bytes, start: int, end: int) -> None:
        if state["header"] == b"content-disposition":
            state["this"] = parse_options_header(data[start:end])[1].get(b"name") == wanted

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["this"]:
            state["value"] += data[start:end]

    def on_part_end() -> None:
        if state["this"] and state["found"] is None:
            state["found"] = state["value"].decode("latin-1")

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except Exception:  # a malformed body: no token (the app would refuse it anyway)
        return None
    found: str | None = state["found"]
    return found


async def _refuse(send: Send, status: int, message: str) -> None:
    """Answer with a JSON ``{"detail": message}`` and ``status``."""
    import json

    body = json.dumps({"detail": message}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
