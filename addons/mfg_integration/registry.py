# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Entries of the pipeline's registries (see docs/extending.md).

An addon plugs into the message pipeline by extending, with ``super()``, one of these
methods of ``mfg.message`` or ``mfg.connector``; the core names none of its addons:

- ``mfg.message._mfg_apply_handlers()``: {canonical type: Handler} for inbound messages;
- ``mfg.message._mfg_transports()``: {connector type: Transport} for outbound messages;
- ``mfg.connector._mfg_connection_tests()``: {connector type: method name} for the
  "Test connection" button.

Values name methods (strings) rather than holding functions, so an addon further down
can still override the method itself with ``super()``.
"""
from collections import namedtuple

Handler = namedtuple("Handler", "method batch_method batchable version",
                     defaults=(None, None, 1))
Handler.__doc__ = """How inbound messages of one canonical type are applied to Odoo.

``method``: name of an ``mfg.message`` method called on one message (mapped values in
``mapped_values``); returns the produced records, a summary text or None, or raises
(see exceptions.py for what each error does to the message).
``batch_method`` (optional): name of an ``mfg.message`` method called on consecutive
messages of one ordering key, each with its mapped values given as {message id: values};
returns the produced records; may raise anything: the messages are then applied one by
one by ``method``, which attributes the error.
``batchable`` (optional): name of an ``mfg.message`` method telling whether one message
may join such a batch (default: every message of the type).
``version`` (default 1): the schema version of the payloads the methods read
(``mfg.message._mfg_payload()``). Older envelopes are upgraded to it (checked at ingest),
newer ones refused at ingest with the reason; an inbound flow cannot be set to build a
newer version than it.
"""

Transport = namedtuple("Transport", "method batch pull", defaults=(False, False))
Transport.__doc__ = """How outbound messages of one connector type are delivered.

``method``: name of an ``mfg.message`` method called on due outbound messages of ONE
connector; returns {message id: outcome}, an outcome being the result summary (text or
records) or the exception instance that message met.
``batch``: True when the peer gains from receiving many messages in one call; the core
then delivers the due messages of a job together, in ordering-key rounds, before it
walks through them (otherwise it calls ``method`` with one message at a time, after the
rate limit check).
``pull``: True when the peer fetches its messages itself (an edge device behind a plant
firewall, which Odoo cannot reach): ``method`` is then None; the messages wait, validated,
in ``mapped`` until the peer fetches them (``mfg.connector.edge_fetch``) and reports each
one's result (``edge_report``): done, or exception with the peer's reason.
"""
