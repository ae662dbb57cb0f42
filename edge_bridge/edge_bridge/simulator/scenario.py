"""Deterministic production timelines and their ground truth.

``build_timeline`` turns (seed, rate, duration, scenario) into a list of readings - one reading
per step, step ``i`` at ``start + i / rate`` - and computes what a correct bridge must report:
counter totals, scrap per reason, every stop with its reason, every alarm edge, measurement
counts. Timestamps are nominal, so the truth does not depend on how fast anything runs.
"""
import random
from dataclasses import dataclass

SCENARIOS = ("normal", "breakdowns", "counter_reset")
CYCLE_ROLLOVER_AT = 65535
SCRAP_REASONS = ("DIM", "SURF", "MAT")
STOP_REASONS = ("JAM", "MATERIAL", "TOOL", "MAINT")
ALARMS = {"OVERHEAT": "critical", "GUARD_OPEN": "warning"}
RUNNING, STOPPED = 1, 0


@dataclass
class Reading:
    at: float        # epoch seconds (nominal)
    asset: str
    tag: str
    value: object
    seq: int


def initial_values(scenario):
    start_cycle = CYCLE_ROLLOVER_AT - 40 if scenario == "counter_reset" else 0
    values = {"cycle_count": start_cycle, "good_count": 0, "scrap_count": 0, "scrap_reason": "",
              "state": RUNNING, "state_reason": "", "temperature": 40.0}
    values.update({f"alarm_{code.lower()}": False for code in ALARMS})
    return values


class _AssetPlayer:
    """Generates the readings of one asset and keeps its truth up to date."""

    def __init__(self, asset, scenario, rng, alarm_style):
        self.asset, self.scenario, self.rng, self.alarm_style = asset, scenario, rng, alarm_style
        self.values = initial_values(scenario)
        self.stop_until = None
        self.pending = []         # readings queued for the next steps
        self.truth = {"counters": {"cycle_count": 0, "good_count": 0, "scrap_count": 0}, "scrap_by_reason": {},
                      "downtimes": [], "alarms": [], "measurements": {"temperature": {"count": 0}},
                      "resets": 0, "readings": 0, "initial": dict(self.values)}
        self.stop_probability = {"normal": 0.002, "breakdowns": 0.01, "counter_reset": 0.002}[scenario]
        self.stop_length = {"normal": (0.3, 1.0), "breakdowns": (0.5, 4.0), "counter_reset": (0.3, 1.0)}[scenario]
        self.reset_done = False

    def _set(self, tag, value, effect=None):
        # ``effect`` updates the truth when the reading is actually played, not when planned:
        # a timeline may end between the readings of one action.
        self.values[tag] = value
        self.pending.append((tag, value, effect))

    def _count(self, counter, reason=None):
        def effect():
            self.truth["counters"][counter] += 1
            if reason:
                by_reason = self.truth["scrap_by_reason"]
                by_reason[reason] = by_reason.get(reason, 0) + 1
        return effect

    def _plan(self, at, progress):
        """Queue the readings of the next action."""
        rng, values, truth = self.rng, self.values, self.truth
        if self.stop_until is not None:
            if at >= self.stop_until:
                self._set("state", RUNNING)
                stop = truth["downtimes"][-1]
                stop["end"] = None      # filled when the reading is played
                self._set("state_reason", "")
                self.stop_until = None
            else:
                self._temperature()
            return
        roll = rng.random()
        if (self.scenario == "counter_reset" and not self.reset_done and progress > 0.6
                and 0 < values["cycle_count"] < CYCLE_ROLLOVER_AT // 2):
            # A PLC restart: all counters back to 0.
            self.reset_done = True
            truth["resets"] += 1
            for tag in ("cycle_count", "good_count", "scrap_count"):
                self._set(tag, 0)
        elif roll < self.stop_probability:
            reason = rng.choice(STOP_REASONS)
            self._set("state_reason", reason)
            self._set("state", STOPPED)
            truth["downtimes"].append({"start": None, "end": None, "reason_code": reason})
            self.stop_until = at + rng.uniform(*self.stop_length)
        elif roll < self.stop_probability + 0.004:
            code = rng.choice(sorted(ALARMS))
            tag = f"alarm_{code.lower()}"
            self._set(tag, not values[tag])
        elif roll < 0.35:
            self._temperature()
        else:
            self._set("cycle_count", (values["cycle_count"] + 1) % (CYCLE_ROLLOVER_AT + 1),
                      self._count("cycle_count"))
            if rng.random() < 0.06:
                reason = rng.choice(SCRAP_REASONS)
                if values["scrap_reason"] != reason:
                    self._set("scrap_reason", reason)
                self._set("scrap_count", values["scrap_count"] + 1, self._count("scrap_count", reason))
            else:
                self._set("good_count", values["good_count"] + 1, self._count("good_count"))

    def _temperature(self):
        previous = self.values["temperature"]
        value = round(min(90.0, max(20.0, previous + self.rng.uniform(-0.8, 0.8))), 2)
        if value == previous:
            # OPC UA reports changes only; an unchanged sample would be invisible to a subscriber.
            value = round(previous + (0.01 if previous < 90.0 else -0.01), 2)
        self._set("temperature", value)

    def next_reading(self, at, progress, seq):
        if not self.pending:
            self._plan(at, progress)
        if not self.pending:
            self._temperature()
        tag, value, effect = self.pending.pop(0)
        if effect:
            effect()
        self._record(tag, value, at)
        return Reading(at, self.asset, tag, value, seq)

    def _record(self, tag, value, at):
        truth = self.truth
        truth["readings"] += 1
        if tag == "state":
            stop = truth["downtimes"][-1]
            if value == STOPPED:
                stop["start"] = at
            else:
                stop["end"] = at
                stop["duration_s"] = round(at - stop["start"], 3)
        elif tag == "temperature":
            stats = truth["measurements"]["temperature"]
            stats["count"] += 1
            stats["min"] = min(stats.get("min", value), value)
            stats["max"] = max(stats.get("max", value), value)
        elif tag.startswith("alarm_"):
            code = tag[6:].upper()
            truth["alarms"].append({"code": code, "severity": ALARMS[code], "active": value, "at": at})


def build_timeline(seed, rate, duration, scenario, start, assets):
    """Return (readings, truth). ``assets``: {asset name: channel}, played round-robin."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
    players = [_AssetPlayer(name, scenario, random.Random(f"{seed}:{name}"), channel)
               for name, channel in sorted(assets.items())]
    total = int(rate * duration)
    readings = []
    # Each machine first reports where its counters stand: a bridge takes a counter's first
    # reading as the baseline, so the parts counted afterwards are exactly the truth.
    for player in players:
        for tag in ("cycle_count", "good_count", "scrap_count", "state"):
            readings.append(Reading(start, player.asset, tag, player.values[tag], len(readings) + 1))
    offset = len(readings)
    for index in range(total):
        at = start + (index + 1) / rate
        player = players[index % len(players)]
        readings.append(player.next_reading(at, index / max(total, 1), offset + index + 1))
    truth = {"seed": seed, "scenario": scenario, "rate": rate, "duration": duration, "start": start,
             "readings": total, "assets": {}}
    for player in players:
        # A stop still open at the end has no end yet: the bridge must not report it.
        downtimes = [d for d in player.truth["downtimes"] if d.get("start") is not None and d.get("end") is not None]
        player.truth["open_stop"] = any(d.get("end") is None and d.get("start") is not None
                                        for d in player.truth["downtimes"])
        player.truth["downtimes"] = downtimes
        player.truth["channel"] = assets[player.asset]
        truth["assets"][player.asset] = player.truth
    return readings, truth
