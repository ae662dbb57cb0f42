# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Errors of the integration pipeline, defined once.

What an error class means for a message (see docs/extending.md, "Errors"):

- a *business* error (``BUSINESS_ERRORS``: MfgBusinessError, PeerRejected, MissingMapping,
  an invalid envelope, any UserError) puts the message in ``exception``: a person fixes it;
- ``TransportError`` and any other exception are technical: retried with the flow's
  backoff, then ``dead``;
- ``OutboundRateLimited`` defers the delivery without using an attempt.

Transports and handlers of any addon raise these; the modules that defined them before
(services/transport.py, models/mfg_message*.py, models/mfg_secret_mixin.py,
services/mapping_spec.py) re-export them so existing imports keep working.
"""
from mfg_canonical import EnvelopeError

from odoo.exceptions import UserError


class MfgBusinessError(Exception):
    """A problem only a person can fix (wrong data, unknown order...): no automatic retry."""


class TransportError(Exception):
    """Technical failure talking to a peer; the message is retried with the flow's backoff.

    ``retry_after_s``: the peer asked us to wait at least this long (HTTP Retry-After);
    the retry is then never scheduled sooner, even when the flow's backoff is shorter.
    """

    def __init__(self, *args, retry_after_s=None):
        super().__init__(*args)
        self.retry_after_s = retry_after_s


class PeerRejected(Exception):
    """The peer answered with a business refusal (4xx); retrying the same content is pointless."""


class ForeignHostError(PeerRejected):
    """A request carrying a connector's credentials would go to another scheme+host+port
    (a pagination link, an OData ``__next`` or a redirect pointed elsewhere): refused
    before anything is sent there. A person checks the peer; retrying cannot help."""


class OutboundRateLimited(Exception):
    """The connector's rate limit is reached: deliver later, without using an attempt."""

    def __init__(self, wait_s):
        super().__init__(f"rate limit reached, next delivery in {wait_s:.0f} s")
        self.wait_s = wait_s


class MissingMapping(Exception):
    """A required external code has no mapping; carries what the operator must create."""

    def __init__(self, missing):
        self.missing = missing  # list of (mapping_type, external_code, payload field)
        names = ", ".join(f"{kind} '{code}' (payload.{field})" for kind, code, field in missing)
        super().__init__(f"No mapping for {names}")


class MfgSecretError(UserError):
    """A secret cannot be stored or read (no key configured, wrong key, tampered value).
    A UserError: a message needing it goes to `exception` (a person fixes the key or
    re-enters the secret) instead of being retried in a loop."""


class BatchTooLarge(UserError):
    """Answered as HTTP 413 by the JSON-2 endpoint."""

    http_status = 413


# Errors that put a message in `exception` instead of scheduling a retry.
BUSINESS_ERRORS = (MfgBusinessError, MissingMapping, EnvelopeError, UserError, PeerRejected)
