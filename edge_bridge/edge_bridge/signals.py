"""The record every source hands to the aggregation stage.

A source turns whatever it reads (an OPC UA data change, an MQTT message, a polled REST item)
into ``Signal`` objects; from there on nothing knows which protocol a value came from.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass
class Signal:
    source: str                 # configured source name, e.g. "plc1"
    asset: str                  # asset name as configured under ``assets``
    tag: str                    # tag name inside that asset
    value: Any
    timestamp: datetime         # when it happened at the source (aware, UTC)
    sequence: int | None = None   # monotonic per (source, asset, tag) when the source has one


@dataclass
class Delivery:
    """One unit a source hands over: signals plus what to do once they are durably committed.

    ``ack`` runs only after the transaction holding the resulting events has committed (MQTT
    PUBACK, for instance). ``checkpoint`` is a (name, value) pair written in that same
    transaction (the HTTP poller's since-cursor), so cursor and events can never disagree.
    ``rejects`` are raw inputs that could not be turned into signals; they are dead-lettered in
    the same transaction before the source is acknowledged.
    """
    signals: list = field(default_factory=list)
    ack: Callable[[], None] | None = None
    checkpoint: tuple | None = None
    rejects: list = field(default_factory=list)   # [(source, raw_text, reason)]


def utc_now():
    return datetime.now(timezone.utc)


def from_epoch(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc)
