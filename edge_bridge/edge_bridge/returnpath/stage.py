"""The return path stage: fetch from Odoo, store, acknowledge, deliver to the plant, report.

Plant networks accept no inbound connection, so Odoo cannot send anything into the plant; this
stage asks for it (``mfg.connector.edge_fetch``, short polling with ``poll_interval_s``, at once
again while there is more). One cycle:

1. fetch with ``ack`` = every stored message not yet acknowledged: Odoo hands those over and
   returns the next batch, which is committed to the store (``CommandStore``) before the next
   fetch acknowledges it - the acknowledgement of one fetch travels with the next;
2. deliver the stored messages in the order Odoo gave them, each to the target its type is
   routed to (``return_path.routes``): done, refused (reason), or target unavailable (the
   message and the later ones for that target wait; other targets go on);
3. report the results (``edge_report``), then mark them reported.

A kill at any point loses nothing: an unacknowledged message is offered again (and stored once),
a stored one is delivered after the restart, an unreported result is reported again (Odoo
ignores a second report). Delivery itself is at least once; each target carries the key.
"""
import logging

from .. import faults
from ..sink.odoo import PushError, TransientError
from ..stage import Stage
from ..targets.base import Refused, Unavailable

log = logging.getLogger(__name__)


def parse_fetch_answer(answer):
    """[(odoo_id, envelope, refusal)] of an edge_fetch answer, and its "more" flag and the ids
    Odoo withdrew. An answer breaking the contract is a TransientError (nothing is stored);
    one unreadable envelope is stored as refused, with the reason, and reported as such."""
    if not isinstance(answer, dict) or not isinstance(answer.get("messages"), list):
        raise TransientError(f"edge_fetch answered {str(answer)[:100]}, expected {{messages: [...]}}")
    items, seen = [], set()
    for item in answer["messages"]:
        odoo_id = item.get("id") if isinstance(item, dict) else None
        if type(odoo_id) is not int or odoo_id <= 0 or odoo_id in seen:
            raise TransientError(f"edge_fetch answer: item {str(item)[:100]} has no message id (or twice)")
        seen.add(odoo_id)
        envelope = item.get("envelope")
        readable = isinstance(envelope, dict) and isinstance(envelope.get("type"), str) \
            and isinstance(envelope.get("key"), str)
        items.append((odoo_id, envelope if readable else None,
                      None if readable else "the bridge cannot read this envelope (no type or key)"))
    withdrawn = answer.get("withdrawn") or []
    if not isinstance(withdrawn, list) or any(type(i) is not int for i in withdrawn):
        raise TransientError("edge_fetch answer: withdrawn is not a list of ids")
    return items, bool(answer.get("more")), withdrawn


class ReturnPath(Stage):
    restart_on_crash = True      # its state is the store on disk

    def __init__(self, config, device_code, transport, store, targets, metrics):
        super().__init__("return_path", metrics)
        self.config = config
        self.device_code = device_code
        self.transport = transport
        self.store = store
        self.targets = targets
        self.failures = 0
        self.last_error = None

    def run(self):
        delay = self.config.poll_interval_s
        while not self.stopping.is_set():
            try:
                busy = self.cycle()
                self.failures, delay = 0, self.config.poll_interval_s
            except PushError as exc:
                self.failures += 1
                self.last_error = str(exc)[:300]
                self.metrics.return_path_failures.inc()
                log.warning("return path call to Odoo failed; retrying", extra={"error": self.last_error,
                                                                               "retry_in_s": delay})
                busy = False
                delay = min(delay * 2, max(30.0, self.config.poll_interval_s))
            if not busy:
                self.stopping.wait(delay)

    def cycle(self):
        """One fetch, the deliveries it allows, the reports; True when there may be more now."""
        fetched, more = self.fetch()
        delivered = self.deliver()
        self.report()
        if self.config.retention_s is not None:
            self.store.purge(self.config.retention_s)
        return fetched > 0 or more or delivered > 0

    def fetch(self):
        acks = self.store.unacked_ids()
        answer = self.transport.call("mfg.connector", "edge_fetch", code=self.device_code, ack=acks,
                                     limit=self.config.batch_size)
        items, more, withdrawn = parse_fetch_answer(answer)
        faults.exit_point("return_path.fetched")
        self.store.mark_acked(acks)
        self.store.withdraw(withdrawn)
        added = self.store.add(items)
        faults.exit_point("return_path.stored")
        self.metrics.return_path_fetched.inc(added)
        # What was just stored is acknowledged by the next fetch: ask again at once.
        return len(items), more or bool(items)

    def deliver(self):
        blocked, done = set(), 0
        for odoo_id, envelope in self.store.to_deliver():
            if self.stopping.is_set():
                break
            name = self.config.routes.get(envelope.get("type"))
            if name is None:
                self.store.finish(odoo_id, "refused", f"no route for {envelope.get('type')} in this bridge's "
                                  "return_path.routes")
                continue
            if name in blocked:
                continue
            try:
                detail = self.targets[name].deliver(envelope)
                state = "delivered"
                faults.exit_point("return_path.delivered")
            except Refused as exc:
                detail, state = str(exc), "refused"
            except Unavailable as exc:
                self.store.note_attempt(odoo_id, str(exc))
                self.metrics.return_path_unavailable.labels(name).inc()
                log.warning("return path target unavailable; its messages wait",
                            extra={"target": name, "error": str(exc)[:300]})
                blocked.add(name)
                continue
            except Exception as exc:     # a target's own bug on this message: refuse it, keep going
                log.exception("return path target failed on one message", extra={"target": name})
                detail, state = f"{name} failed on this message: {type(exc).__name__}: {exc}", "refused"
            self.store.finish(odoo_id, state, detail, name)
            self.metrics.return_path_done.labels(name, state).inc()
            done += 1
        return done

    def report(self):
        while not self.stopping.is_set():
            results = self.store.unreported()
            if not results:
                return
            answer = self.transport.call("mfg.connector", "edge_report", code=self.device_code, results=results)
            faults.exit_point("return_path.reported")
            if not isinstance(answer, dict) or not isinstance(answer.get("refused", []), list):
                raise TransientError(f"edge_report answered {str(answer)[:100]}")
            for entry in answer.get("refused", []):
                log.warning("Odoo did not record a return-path result", extra={"detail": str(entry)[:300]})
            self.store.mark_reported([result["id"] for result in results])

    def status(self):
        return {**super().status(), "failures": self.failures, "last_error": self.last_error,
                "commands": self.store.counts()}
