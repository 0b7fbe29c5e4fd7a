"""The hub's HTTP door (docs/http-api.md) with urllib only: identity, models, the
package of a version, contribution uploads and the server-sent event stream.

Every request carries ``Authorization: Bearer KEY``. A refusal's JSON body
``{"error", "message"}`` becomes a HubError whose ``code`` is the hub's error
code; a hub that cannot be reached is HubError ``unavailable``.

An ``https://`` hub (fl-hub with ``tls_certificate``, docs/operations.md "TLS")
is verified against ``ca_file`` (``fl-hub init-tls``'s ``ca.pem``; without one,
the system's CAs), its name included; a hub whose certificate does not chain to
that CA is refused (HubError ``unavailable``). For mutual TLS ``cert_file`` and
``key_file`` are this client's certificate and key (``clients/NAME.pem``,
``NAME.key``).
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional, Tuple

from .errors import HubError
from .events import EventStream

CONTRIBUTION_TYPE = "application/vnd.fedhub.contribution"
PACKAGE_TYPE = "application/vnd.fedhub.model-package"


def _refusal(e: urllib.error.HTTPError) -> HubError:
    body = e.read()
    try:
        doc = json.loads(body)
        return HubError(str(doc["error"]), str(doc.get("message", "")), e.code)
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip()[:300]
        return HubError(f"http_{e.code}", f"{e.reason}{': ' + text if text else ''}", e.code)


def tls_context(ca_file: Optional[str] = None, cert_file: Optional[str] = None,
                key_file: Optional[str] = None) -> ssl.SSLContext:
    """A client context that verifies the hub: TLS 1.2 or later, the hub's certificate checked against
    ``ca_file`` alone (the system's CAs when None) and its host name; with ``cert_file`` and ``key_file``
    this client's certificate for mutual TLS. HubError ``bad_request`` naming a file that cannot be used."""
    if bool(cert_file) != bool(key_file):
        raise HubError("bad_request", "--cert and --cert-key go together (a client certificate and its key)")
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    except (OSError, ssl.SSLError) as e:
        raise HubError("bad_request", f"cannot use the CA file '{ca_file}': {e}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if cert_file:
        try:
            ctx.load_cert_chain(cert_file, key_file)
        except (OSError, ssl.SSLError) as e:
            raise HubError("bad_request", f"cannot use the client certificate '{cert_file}' with the key "
                           f"'{key_file}': {e}") from None
    return ctx


class HubClient:
    """A participant's (or manager's) view of one hub's HTTP door, e.g. ``HubClient("http://127.0.0.1:8080", key)``."""

    def __init__(self, hub: str, key: str, timeout: float = 60.0, ca_file: Optional[str] = None,
                 cert_file: Optional[str] = None, key_file: Optional[str] = None):
        if not key:
            raise HubError("unauthorized", "no API key: pass --key KEY or set FEDHUB_KEY (fl-manager keys add NAME)")
        if "://" not in hub:
            hub = "http://" + hub
        parsed = urllib.parse.urlsplit(hub)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise HubError("bad_request", f"--hub '{hub}' is not an address like http://127.0.0.1:8080")
        self.base = hub.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.context = None
        if parsed.scheme == "https":
            self.context = tls_context(ca_file, cert_file, key_file)
        elif ca_file or cert_file or key_file:
            raise HubError("bad_request", f"--ca-file and --cert are for an https:// hub, not '{hub}'")

    def _request(self, method: str, path: str, body: Optional[bytes] = None, content_type: Optional[str] = None,
                 accept: str = "application/json", timeout: Optional[float] = None):
        headers = {"Authorization": f"Bearer {self.key}", "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout, context=self.context)
        except urllib.error.HTTPError as e:
            raise _refusal(e) from None
        except (urllib.error.URLError, ConnectionError, socket.timeout, ssl.SSLError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise HubError("unavailable", f"the hub at {self.base} is not the one expected: its certificate "
                               f"fails verification ({reason.verify_message}); is --ca-file the hub's CA "
                               "(ca.pem of fl-hub init-tls)?") from None
            raise HubError(
                "unavailable",
                f"cannot reach the hub at {self.base} ({reason}): is fl-hub running with --http-port, and is --hub right?",
            ) from None

    def _json(self, method: str, path: str, doc=None):
        body = None if doc is None else json.dumps(doc).encode()
        with self._request(method, path, body, "application/json" if body is not None else None) as r:
            return json.loads(r.read())

    @staticmethod
    def _model(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    def whoami(self) -> dict:
        """``{"name", "role"}`` of the key."""
        return self._json("GET", "/api/v1/whoami")

    def models(self) -> list:
        """Summaries of every model (``fl-manager list --json``)."""
        return self._json("GET", "/api/v1/models")

    def model_summary(self, model: str) -> dict:
        """The summary of one model from the listing (open to participants); HubError unknown_model otherwise."""
        for m in self.models():
            if m.get("name") == model:
                return m
        raise HubError("unknown_model", f"the hub has no model '{model}' (fl-manager list shows the models)", 404)

    def status(self, model: str, version="current") -> dict:
        """A version's status (manager keys): summary, contributions, versions."""
        path = f"/api/v1/models/{self._model(model)}"
        return self._json("GET", path if version == "current" else f"{path}/versions/{version}")

    def merge(self, model: str, base: int) -> dict:
        """Merges the contributions to ``base`` (manager keys); the merge receipt."""
        return self._json("POST", f"/api/v1/models/{self._model(model)}/merge", {"base": int(base)})

    def download_package(self, model: str, version="current") -> Tuple[bytes, int]:
        """The framed model package of a version (``current`` by default) and its actual version number."""
        path = f"/api/v1/models/{self._model(model)}/versions/{version}/package"
        with self._request("GET", path, accept=PACKAGE_TYPE) as r:
            data = r.read()
            length = r.headers.get("Content-Length")
            actual = int(r.headers.get("X-Fedhub-Version", -1))
        if length is not None and int(length) != len(data):
            raise HubError("unavailable", f"the download of '{model}' ended after {len(data)} of {length} bytes: try again")
        return data, actual

    def upload(self, model: str, contribution: bytes) -> dict:
        """Uploads a contribution file; the receipt ``{"model", "base_version", "participant", "contributions"}``."""
        path = f"/api/v1/models/{self._model(model)}/contributions"
        with self._request("POST", path, contribution, CONTRIBUTION_TYPE) as r:
            return json.loads(r.read())

    def events(self, model: Optional[str] = None, read_timeout: float = 60.0) -> EventStream:
        """The server-sent events of one model (all models without one); iterate or call ``next_event``."""
        path = f"/api/v1/models/{self._model(model)}/events" if model else "/api/v1/events"
        return EventStream(self._request("GET", path, accept="text/event-stream", timeout=read_timeout))
