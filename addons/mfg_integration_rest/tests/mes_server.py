"""A REST MES for the tests: OAuth2 client credentials, bearer-protected order
confirmations and a paginated alarm list with a since-filter, on 127.0.0.1.

``script`` holds canned answers (status, headers, body) served before the normal
behaviour, one per API request: that is how a test makes the MES answer 429, 503, a
malformed body, or hang past the client's timeout.
"""
import base64
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from odoo.addons.mfg_integration.tests.common import LocalHttpServer


class MesServer(LocalHttpServer):
    # One closure per route keeps the simulated MES readable in one place.
    def __init__(self, client_id="odoo", client_secret="s3cret", token_ttl=3600):  # noqa: C901
        self.client_id, self.client_secret, self.token_ttl = client_id, client_secret, token_ttl
        self.tokens = set()
        self.token_requests = 0
        self.requests = []          # API requests: {"method", "path", "query", "json", "headers"}
        self.script = []            # [(status, headers, body or callable)]
        self.alarms = []            # items served by GET /api/alarms
        self.confirmations = {}     # Idempotency-Key -> id: re-sends return the same id
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_POST(self):  # noqa: N802 - http.server API
                url = urlsplit(self.path)
                raw = self._body()
                if url.path == "/oauth/token":
                    return self._token(raw)
                self._api("POST", url, raw)

            def do_GET(self):  # noqa: N802
                self._api("GET", urlsplit(self.path), b"")

            def _token(self, raw):
                server.token_requests += 1
                expected = base64.b64encode(
                    f"{server.client_id}:{server.client_secret}".encode()).decode()
                form = parse_qs(raw.decode())
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._send(401, {"error": "invalid_client"})
                if form.get("grant_type") != ["client_credentials"]:
                    return self._send(400, {"error": "unsupported_grant_type"})
                token = f"tok-{server.token_requests}"
                server.tokens.add(token)
                self._send(200, {"access_token": token, "token_type": "Bearer",
                                 "expires_in": server.token_ttl})

            def _api(self, method, url, raw):
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                server.requests.append({"method": method, "path": url.path,
                                        "query": {k: v[0] for k, v in parse_qs(url.query).items()},
                                        "json": body, "headers": dict(self.headers)})
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in server.tokens:
                    return self._send(401, {"error": "invalid_token"})
                if server.script:
                    status, headers, answer = server.script.pop(0)
                    if callable(answer):
                        answer = answer()
                    return self._send(status, answer, headers)
                if method == "POST" and url.path.endswith("/confirmations"):
                    return self._confirm(url, body)
                if method == "GET" and url.path == "/api/alarms":
                    return self._alarms(url)
                self._send(404, {"error": f"no route {method} {url.path}"})

            def _confirm(self, url, body):
                order = url.path.split("/")[-2]
                if order == "CLOSED":
                    return self._send(422, {"error": "order CLOSED is already closed"})
                key = self.headers.get("Idempotency-Key")
                confirmation_id = server.confirmations.setdefault(
                    key, f"CONF-{len(server.confirmations) + 1}")
                self._send(201, {"id": confirmation_id, "order": order, "received": body})

            def _alarms(self, url):
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                since = query.get("updated_since", "")
                items = sorted((a for a in server.alarms if a["updated_at"] > since),
                               key=lambda a: (a["updated_at"], a["id"]))
                size = int(query.get("per_page") or query.get("limit") or 100)
                if "cursor" in query or query.get("mode") in ("cursor", "link"):
                    start = int(query.get("cursor") or 0)
                else:
                    start = (int(query.get("page") or 1) - 1) * size
                page = items[start:start + size]
                more = start + size < len(items)
                answer = {"data": page, "meta": {"total": len(items)}}
                if more:
                    answer["next_cursor"] = str(start + size)
                    answer["links"] = {"next": f"/api/alarms?cursor={start + size}"
                                       f"&per_page={size}&updated_since={since}"}
                self._send(200, answer)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the client gave up (timeout test): nothing to report

        self._serve(Handler, server_class=Server)
        self.url = self.base_url

    def hang(self, seconds):
        """A canned answer that arrives only after ``seconds`` (past the client timeout)."""
        def late():
            time.sleep(seconds)
            return {"late": True}
        return late

    def add_alarm(self, alarm_id, minute, machine="PRESS-1", level="HIGH", raised=True):
        self.alarms.append({"id": alarm_id, "machine": machine, "alarm": f"E{alarm_id}",
                            "level": level, "raised": raised,
                            "updated_at": f"2026-11-23T08:{minute:02d}:00Z"})

    def api_requests(self, method=None):
        return [r for r in self.requests if method is None or r["method"] == method]
