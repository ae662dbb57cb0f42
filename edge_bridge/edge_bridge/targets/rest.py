"""Local REST target: each message is POSTed as its envelope (JSON) to an endpoint of the plant
(a MES, a line controller), with ``Idempotency-Key: <message key>`` so a repeat after a bridge
restart is recognised, and ``X-Mfg-Event: <type>``.

2xx: done. 408, 429, 5xx, or no answer: the plant is unavailable, the message waits. Any other
4xx: the plant refuses this message; its answer (start of the body) is the reason Odoo shows.
"""
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote

import requests

from ..config import ConfigError, Secret
from .base import Refused, Target, Unavailable, register, render


@dataclass
class RestTargetConfig:
    url: str
    timeout_s: float = 10.0
    token: Secret | None = None
    headers: dict = field(default_factory=dict)
    verify_tls: bool = True


@register
class RestTarget(Target):
    type = "rest"

    @classmethod
    def parse_settings(cls, node, context):
        node.check_known("url", "timeout_s", "token", "headers", "verify_tls")
        url = node.str("url", required=True)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{node._key('url')}: must be an http:// or https:// URL")
        headers = node.child("headers")
        for name, value in headers.data.items():
            if not isinstance(value, str):
                raise ConfigError(f"{headers._key(name)}: must be a string")
        return RestTargetConfig(url=url, timeout_s=node.num("timeout_s", 10.0, minimum=0.1),
                                token=node.secret("token", context.base_dir),
                                headers=dict(headers.data), verify_tls=node.bool("verify_tls", True))

    def __init__(self, name, settings):
        super().__init__(name, settings)
        self.session = requests.Session()
        self.session.verify = settings.verify_tls

    def deliver(self, envelope):
        url = render(self.config.url, envelope, partial(quote, safe=""))
        headers = {**self.config.headers, "Idempotency-Key": str(envelope.get("key")),
                   "X-Mfg-Event": str(envelope.get("type"))}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token.reveal()}"
        try:
            response = self.session.post(url, json=envelope, headers=headers, timeout=self.config.timeout_s,
                                         allow_redirects=False)
        except requests.RequestException as exc:
            raise Unavailable(f"{url} unreachable: {exc.__class__.__name__}") from None
        status = response.status_code
        if status in (408, 429) or status >= 500:
            raise Unavailable(f"HTTP {status} from {url}")
        if status >= 300:
            raise Refused(f"HTTP {status} from {url}: {response.text[:300]}")
        return f"HTTP {status} from {url}"

    def close(self):
        self.session.close()
