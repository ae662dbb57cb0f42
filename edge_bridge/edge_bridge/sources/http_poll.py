"""HTTP polling source for MES REST endpoints, with a durable since-cursor.

Each poll asks ``GET url?<cursor_param>=<cursor>``; the cursor for the next poll (from
``cursor_path`` in the answer, or the last item's sequence) is written into the buffer in the same
transaction as the events built from the items, so after a crash we ask again from exactly the
last committed point. 429 answers are honoured with their Retry-After.
"""
import json
import logging
import threading
from dataclasses import dataclass, field

import requests

from ..config import ConfigError, Secret
from ..signals import Delivery, utc_now
from .base import Source, register
from .json_fields import (
    FieldPaths,
    describe_parse_error,
    extract,
    parse_field_paths,
    to_signal,
)

log = logging.getLogger(__name__)
_MISSING_CURSOR = object()


def retry_after_seconds(response, default):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _dump_item(item):
    try:
        return json.dumps(item, default=str)[:4000]
    except (ValueError, RecursionError):
        return repr(item)[:4000]


@dataclass
class HttpPollConfig:
    url: str
    interval_s: float = 5.0
    cursor_param: str = "since"
    items_path: str = "items"
    cursor_path: str | None = "cursor"
    fields: FieldPaths = field(default_factory=FieldPaths)
    timeout_s: float = 10.0
    verify_tls: bool = True
    api_key: Secret | None = None


@register
class HttpPollSource(Source):
    type = "http_poll"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("url", "interval_s", "cursor_param", "items_path", "cursor_path", "fields",
                         "timeout_s", "verify_tls", "api_key")
        url = node.str("url", required=True)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{node._key('url')}: must be an http:// or https:// URL")
        return HttpPollConfig(
            url=url, interval_s=node.num("interval_s", 5.0, minimum=0.01),
            cursor_param=node.str("cursor_param", "since"), items_path=node.str("items_path", "items"),
            cursor_path=node.str("cursor_path", "cursor"),
            fields=parse_field_paths(node.child("fields"), topic_allowed=False),
            timeout_s=node.num("timeout_s", 10.0, minimum=0.1), verify_tls=node.bool("verify_tls", True),
            api_key=node.secret("api_key", context.base_dir))

    def __init__(self, source_config, inbox, metrics, outbox):
        super().__init__(source_config, inbox, metrics, outbox)
        self.rate_limited = 0
        self.close_timeout_s = self.config.timeout_s + 2
        self._session = requests.Session()
        self._session.verify = self.config.verify_tls
        if self.config.api_key:
            self._session.headers["Authorization"] = f"Bearer {self.config.api_key.reveal()}"
        self._last_bad_page = None

    @property
    def checkpoint_name(self):
        return f"http_poll:{self.name}:cursor"

    def close(self):
        super().close()
        self._session.close()

    def run(self):
        cursor = self.outbox.checkpoint(self.checkpoint_name)
        backoff = 1.0
        while not self._stop.is_set():
            wait = self.config.interval_s
            try:
                params = {self.config.cursor_param: cursor} if cursor is not None else {}
                response = self._session.get(self.config.url, params=params, timeout=self.config.timeout_s)
                if response.status_code == 429:
                    self.rate_limited += 1
                    wait = retry_after_seconds(response, backoff)
                    log.warning("MES rate limit, waiting", extra={"source": self.name, "wait_s": wait})
                elif response.status_code >= 400:
                    raise requests.HTTPError(f"HTTP {response.status_code}: {response.text[:200]}")
                else:
                    self.connected = True
                    document = self._parse_page(response)
                    if document is _MISSING_CURSOR:
                        wait, backoff = backoff, min(backoff * 2, 60.0)
                    else:
                        backoff = 1.0
                        cursor, more = self._handle(document, cursor)
                        if more:
                            wait = 0
            except requests.RequestException as exc:
                self.connected = False
                log.warning("MES poll failed", extra={"source": self.name, "error": str(exc), "retry_in_s": backoff})
                wait, backoff = backoff, min(backoff * 2, 60.0)
            except Exception:          # noqa: BLE001 - a bug must not end polling silently
                log.exception("MES poll failed unexpectedly", extra={"source": self.name, "retry_in_s": backoff})
                wait, backoff = backoff, min(backoff * 2, 60.0)
            self.metrics.source_connected.labels(self.name).set(1 if self.connected else 0)
            self._stop.wait(wait)

    def _parse_page(self, response):
        """The page's JSON, or _MISSING_CURSOR after dead-lettering a page that cannot be parsed.

        The cursor cannot move past a page we cannot read, so it is asked for again (with
        backoff); it is dead-lettered once per distinct body, not on every poll.
        """
        try:
            return response.json()
        except Exception as exc:      # noqa: BLE001 - JSON syntax, RecursionError on deep nesting...
            reason = f"malformed MES page: {describe_parse_error(exc)}"
            body = response.text[:4000]
            log.warning("malformed MES page dead-lettered", extra={"source": self.name, "error": reason})
            if body != self._last_bad_page:
                self._last_bad_page = body
                self.metrics.messages_rejected_in.labels(self.name).inc()
                self.metrics.readings_rejected.labels("malformed input").inc()
                committed = threading.Event()
                delivery = Delivery(rejects=[(self.name, json.dumps({"url": self.config.url, "body": body}),
                                              reason)], ack=committed.set)
                if self.inbox.put(delivery, self._stop):
                    committed.wait(10)
            return _MISSING_CURSOR

    def _handle(self, document, cursor):
        """Hand one page over and wait until it is committed; return (new cursor, more pages?)."""
        items = extract(document, self.config.items_path) if self.config.items_path else document
        if not isinstance(items, list) or not items:
            return cursor, False
        received = utc_now()
        delivery = Delivery()
        for item in items:
            try:
                delivery.signals.append(to_signal(self.name, item, self.config.fields, received))
            except Exception as exc:      # noqa: BLE001 - one item, one reject (OverflowError included)
                self.metrics.messages_rejected_in.labels(self.name).inc()
                self.metrics.readings_rejected.labels("malformed input").inc()
                reason = f"malformed MES item: {describe_parse_error(exc)}"
                delivery.rejects.append((self.name, _dump_item(item), reason))
        self.metrics.messages_in.labels(self.name).inc(len(items))
        new_cursor = extract(document, self.config.cursor_path) if self.config.cursor_path else _MISSING_CURSOR
        if new_cursor is _MISSING_CURSOR or new_cursor is None or isinstance(new_cursor, (dict, list)):
            sequences = [s.sequence for s in delivery.signals if s.sequence is not None]
            new_cursor = max(sequences) if sequences else cursor
        committed = threading.Event()
        delivery.checkpoint = (self.checkpoint_name, new_cursor)
        delivery.ack = committed.set
        if not self._intake_open.is_set() or not self.inbox.put(delivery, self._stop):
            return cursor, False
        while not committed.wait(0.2):
            if self._stop.is_set():
                return cursor, False
        return new_cursor, new_cursor != cursor
