"""A small SAP Gateway OData client on ``requests``.

What SAP Gateway needs beyond plain HTTP: a CSRF token fetched with a GET
(``x-csrf-token: fetch``) and sent back with every modifying request together with the
session cookies, fetched again when the token expires (403 "CSRF token validation
failed"); ETags for optimistic locking; server-driven paging; and error bodies that
carry the actual reason in ``error.message.value`` / ``innererror.errordetails``.
"""
import json
import uuid

import requests

from odoo.addons.mfg_integration.exceptions import ForeignHostError

from .sap_errors import SapBusinessError, SapRetryableError

RETRYABLE_STATUS = {408, 423, 425, 429, 500, 502, 503, 504}


def odata_error_text(response):
    """A readable one-liner from a Gateway error body (JSON or XML), else the raw text."""
    try:
        body = response.json()
    except ValueError:
        snippet = (response.text or "").strip().replace("\n", " ")[:300]
        return f"HTTP {response.status_code}: {snippet or response.reason}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status_code}: {str(body)[:300]}"
    message = error.get("message")
    if isinstance(message, dict):  # v2: {"lang", "value"}; v4: a plain string
        message = message.get("value")
    parts = [f"HTTP {response.status_code}", f"{error.get('code', '')}: {message or ''}".strip()]
    inner = error.get("innererror") or {}
    details = inner.get("errordetails") or error.get("details") or []
    for detail in details:
        if isinstance(detail, dict) and detail.get("message") and detail.get("message") != message:
            severity = detail.get("severity", "")
            parts.append(f"{detail.get('code', '')} {severity}: {detail['message']}".strip())
    return " | ".join(parts)


class ODataClient:
    """One OData service (e.g. /sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV) of one system."""

    def __init__(self, base_url, service_path, auth=None, headers=None, timeout=10.0,
                 verify=True, sap_client=None, version="v2", session=None):
        self.service_url = base_url.rstrip("/") + "/" + service_path.strip("/")
        self.timeout = timeout
        self.verify = verify
        self.version = version
        self.params = {"sap-client": sap_client} if sap_client else {}
        self.session = session or requests.Session()
        self.session.auth = auth
        self.session.headers.update(headers or {})
        self.session.headers["Accept"] = "application/json"
        self.csrf_token = None

    # ----------------------------------------------------------------- plumbing
    def url(self, path):
        return self.service_url + "/" + path.lstrip("/") if path else self.service_url + "/"

    def _send(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("verify", self.verify)
        params = dict(self.params)
        params.update(kwargs.pop("params", None) or {})
        try:
            return self.session.request(method, url, params=params, **kwargs)
        except ForeignHostError as exc:
            raise SapBusinessError(str(exc)) from None
        except requests.Timeout as exc:
            raise SapRetryableError(f"SAP OData timeout after {self.timeout}s: {url}") from exc
        except requests.RequestException as exc:
            raise SapRetryableError(f"SAP OData unreachable: {exc}") from exc

    def check(self, response, what):
        """Raise the right error kind for a failed response; return it when it succeeded."""
        if response.status_code < 400:
            return response
        text = f"{what}: {odata_error_text(response)}"
        if response.status_code in (401, 403):
            raise SapBusinessError(f"SAP refused the credentials or authorisation ({text}); "
                                   "fix the connector's user, then requeue.")
        if response.status_code in RETRYABLE_STATUS:
            raise SapRetryableError(text)
        raise SapBusinessError(text)

    def json_of(self, response, what):
        try:
            return response.json()
        except ValueError:
            snippet = (response.text or "").strip().replace("\n", " ")[:200]
            raise SapRetryableError(f"{what}: SAP answered HTTP {response.status_code} with a "
                                    f"non-JSON body ({response.headers.get('Content-Type')}): "
                                    f"{snippet!r}") from None

    def fetch_csrf_token(self):
        response = self._send("GET", self.url(""), headers={"x-csrf-token": "fetch"})
        self.check(response, "CSRF token fetch")
        token = response.headers.get("x-csrf-token")
        if not token or token.lower() == "required":
            raise SapBusinessError("SAP did not hand out a CSRF token (is the service active "
                                   "and the user authorised?)")
        self.csrf_token = token
        return token

    def _modify(self, method, path, headers=None, **kwargs):
        """A modifying request with the CSRF token; one refetch when SAP says it expired."""
        for attempt in (1, 2):
            if not self.csrf_token:
                self.fetch_csrf_token()
            all_headers = {"x-csrf-token": self.csrf_token}
            all_headers.update(headers or {})
            response = self._send(method, self.url(path), headers=all_headers, **kwargs)
            expired = (response.status_code == 403
                       and response.headers.get("x-csrf-token", "").lower() == "required")
            if not expired or attempt == 2:
                return response
            self.csrf_token = None
        return response

    # --------------------------------------------------------------- operations
    def metadata(self):
        response = self._send("GET", self.url("$metadata"), headers={"Accept": "application/xml"})
        self.check(response, "$metadata")
        return response.text

    def iter_pages(self, entity_set, filter_expr=None, page_size=500, orderby=None, expand=None):
        """Yield lists of entities, following __next / @odata.nextLink, else $skip."""
        params = {"$top": page_size, "$format": "json"}
        if expand:
            params["$expand"] = expand
        if filter_expr:
            params["$filter"] = filter_expr
        if orderby:
            params["$orderby"] = orderby
        if self.version == "v2":
            params["$inlinecount"] = "allpages"
        url, skip = self.url(entity_set), 0
        while url:
            response = self.check(self._send("GET", url, params=params), f"GET {entity_set}")
            body = self.json_of(response, f"GET {entity_set}")
            if self.version == "v2":
                container = body.get("d") if isinstance(body, dict) else None
                rows = container.get("results") if isinstance(container, dict) else None
                next_link = container.get("__next") if isinstance(container, dict) else None
            else:
                rows = body.get("value") if isinstance(body, dict) else None
                next_link = body.get("@odata.nextLink") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise SapRetryableError(f"GET {entity_set}: answer has no entity list "
                                        f"({str(body)[:200]})")
            yield rows
            if next_link:
                url, params = next_link, {}  # the link carries the query (and skiptoken)
            elif len(rows) >= page_size:
                skip += len(rows)
                params = dict(params, **{"$skip": skip})
            else:
                url = None

    def create(self, entity_set, body):  # pylint: disable=method-required-super  # not a model
        response = self._modify("POST", entity_set, json=body,
                                headers={"Content-Type": "application/json"})
        self.check(response, f"POST {entity_set}")
        result = self.json_of(response, f"POST {entity_set}")
        return result.get("d", result) if isinstance(result, dict) else result

    def read(self, entity_path):  # pylint: disable=method-required-super  # not a model
        response = self.check(self._send("GET", self.url(entity_path)), f"GET {entity_path}")
        body = self.json_of(response, f"GET {entity_path}")
        entity = body.get("d", body) if isinstance(body, dict) else {}
        etag = response.headers.get("ETag") or (entity.get("__metadata") or {}).get("etag") \
            or entity.get("@odata.etag")
        return entity, etag

    def update(self, entity_path, values, etag=None):
        """PATCH/MERGE with If-Match; SAP's 412 means somebody changed it in between."""
        if not etag:
            _entity, etag = self.read(entity_path)
        method, headers = ("PATCH", {}) if self.version == "v4" else \
            ("POST", {"X-HTTP-Method": "MERGE"})
        headers.update({"If-Match": etag or "*", "Content-Type": "application/json"})
        response = self._modify(method, entity_path, json=values, headers=headers)
        if response.status_code == 412:
            raise SapRetryableError(f"{entity_path} was changed in SAP meanwhile (ETag {etag} "
                                    "outdated); will re-read and retry.")
        self.check(response, f"update {entity_path}")
        return response.headers.get("ETag")

    # -------------------------------------------------------------------- $batch
    def batch_create(self, entity_set, bodies):
        """POST every body in its own changeset of one $batch request.

        One changeset per entity: SAP runs a changeset as one LUW, so a refused posting
        does not roll back its neighbours. Returns [(status, parsed body or text)].
        """
        boundary, parts = f"batch_{uuid.uuid4().hex}", []
        for index, body in enumerate(bodies):
            changeset = f"changeset_{uuid.uuid4().hex}"
            # Each inner request states its own Accept: Gateway answers an inner request
            # without one in Atom XML, whatever the outer request said.
            request = (f"POST {entity_set} HTTP/1.1\r\nContent-Type: application/json\r\n"
                       f"Accept: application/json\r\n"
                       f"Content-ID: {index + 1}\r\n\r\n{json.dumps(body)}\r\n")
            parts.append(
                f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"
                f"--{changeset}\r\nContent-Type: application/http\r\n"
                f"Content-Transfer-Encoding: binary\r\n\r\n{request}--{changeset}--\r\n")
        payload = "".join(parts) + f"--{boundary}--\r\n"
        response = self._modify("POST", "$batch", data=payload.encode(), headers={
            "Content-Type": f"multipart/mixed; boundary={boundary}"})
        self.check(response, "$batch")
        results = parse_batch_response(response)
        if len(results) != len(bodies):
            raise SapRetryableError(f"$batch answered {len(results)} parts for {len(bodies)} "
                                    "changesets")
        return results


def parse_batch_response(response):
    """[(status, json body or text)] from a multipart/mixed $batch answer."""
    content_type = response.headers.get("Content-Type", "")
    if "boundary=" not in content_type:
        raise SapRetryableError(f"$batch answer is not multipart ({content_type})")
    text = response.content.decode("utf-8", "replace")
    results = []
    for block in text.split("HTTP/1.1 ")[1:]:
        status_line, _sep, rest = block.partition("\r\n")
        status = int(status_line.split(" ", 1)[0])
        body = rest.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in rest else ""
        body = body.split("\r\n--", 1)[0].strip()
        try:
            results.append((status, json.loads(body) if body else {}))
        except ValueError:
            results.append((status, body))
    return results


def batch_part_error(status, body):
    """The readable reason of a failed changeset (same shape as odata_error_text)."""
    fake = requests.Response()
    fake.status_code = status
    fake._content = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
    return odata_error_text(fake)
