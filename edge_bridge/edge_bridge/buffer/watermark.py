"""High-water alarm of the buffer: log, metric and optionally a ``machine.alarm`` envelope.

The alarm fires when the buffer passes ``high_water`` x ``max_bytes`` - before the disk policy
has to act - and clears when it falls below again, so someone can fix Odoo or the link in time.
It is a stage of its own (checks every ``check_every_s``), so it also fires while the
aggregation worker is holding the sources back because the buffer is full.
"""
import logging
import time
from datetime import datetime, timezone

from mfg_canonical import validate_envelope

from ..stage import Stage

log = logging.getLogger(__name__)
ALARM_CODE = "EDGE_BUFFER_HIGH_WATER"


class HighWaterWatch(Stage):
    restart_on_crash = True      # its state is one flag, re-derived from the buffer at each check

    def __init__(self, outbox, buffer_config, factory, metrics, on_committed, check_every_s=1.0):
        super().__init__("high_water", metrics)
        self.outbox = outbox
        self.config = buffer_config
        self.factory = factory
        self.on_committed = on_committed        # callable(critical: bool) -> wakes the sink
        self.check_every_s = check_every_s
        self.active = False
        self._next_check = 0.0

    def run(self):
        while not self.stopping.is_set():
            alarm = []
            self.check(alarm)
            for envelope in alarm:
                validate_envelope(envelope)      # our own envelope: a failure is a bug, crash loudly
            if alarm:
                self.outbox.commit(alarm)
                self.on_committed(False)
            self.stopping.wait(self.check_every_s)

    def check(self, out, now=None):
        """Append an alarm envelope to ``out`` when the state flips; cheap when called often."""
        now = time.time() if now is None else now
        if now < self._next_check:
            return
        self._next_check = now + self.check_every_s
        used = self.outbox.budget_bytes()      # dead letters have their own bound
        self.metrics.buffer_bytes.set(used)
        above = used >= self.config.high_water * self.config.max_bytes
        if above == self.active:
            return
        self.active = above
        self.metrics.buffer_high_water.set(1 if above else 0)
        details = {"used_bytes": used, "max_bytes": self.config.max_bytes, "high_water": self.config.high_water}
        if above:
            log.warning("buffer above high-water mark", extra=details)
        else:
            log.info("buffer back below high-water mark", extra=details)
        if self.config.alarm_envelope:
            moment = datetime.fromtimestamp(now, timezone.utc)
            device = self.factory.device_code
            out.append(self.factory.build(
                "machine.alarm",
                ("buffer", "machine.alarm", ALARM_CODE, str(int(now * 1000)), "on" if above else "off"),
                moment, {"asset": device, "code": ALARM_CODE, "severity": "warning", "active": above,
                         "text": f"edge buffer {used} of {self.config.max_bytes} bytes"}))
