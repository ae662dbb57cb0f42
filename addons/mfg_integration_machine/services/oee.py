"""OEE of one period from its inputs (pure functions; models/mfg_oee.py gathers the inputs).

    planned   = working time of the work center's calendar in the period (24 h a day without
                a calendar)
    downtime  = machine stops of availability loss types (productivity lines from
                machine.downtime) inside the planned time
    run       = planned - downtime
    total     = parts processed (machine.counter kind "processed"; good + defective when the
                machine counts no processed parts)
    scrap     = parts counted "defective"; when the machine counts none, the scrap the shop
                floor reported for the work center (production.scrap)
    good      = machine's "good" count when it has one, else total - scrap
    ideal     = sum over products of ideal cycle time x parts processed of that product

    availability = run / planned
    performance  = ideal / run
    quality      = good / total
    OEE          = availability x performance x quality

Worked example (readme/USAGE.md, tests/test_oee.py): shift 06:00-14:00 (480 min), a 45-min jam
-> run 435 min = availability 0.90625; 5,000 parts at an ideal 4.8 s = 400 min ->
performance 400 / 435 = 0.91954; 150 defective -> quality 4,850 / 5,000 = 0.97;
OEE = 0.90625 x 0.91954 x 0.97 = 0.80833 (80.8 %).
"""

from collections import namedtuple

Counts = namedtuple(
    "Counts", "processed good defective reported_scrap", defaults=(0.0, 0.0, 0.0, 0.0)
)
Figures = namedtuple(
    "Figures",
    "planned_s downtime_s run_s ideal_s total good scrap availability performance quality oee",
)


def overlap_seconds(start, end, intervals):
    """Seconds of [start, end) covered by the (start, end) ``intervals`` (clipped, merged)."""
    clipped = sorted((max(start, s), min(end, e)) for s, e in intervals if s < end and e > start)
    total, cursor = 0.0, start
    for s, e in clipped:
        s = max(s, cursor)
        if e > s:
            total += (e - s).total_seconds()
            cursor = e
    return total


def figures(planned_s, downtime_s, counts_by_product, ideal_cycle_s):
    """The period's figures; ``counts_by_product``: {product id or None: Counts};
    ``ideal_cycle_s``: callable(product id or None) -> seconds per part (0 if unknown)."""
    downtime_s = min(downtime_s, planned_s)
    run_s = planned_s - downtime_s
    total = good_counted = defective = reported = ideal_s = 0.0
    counted_good = False
    for product, counts in counts_by_product.items():
        processed = counts.processed or counts.good + counts.defective
        total += processed
        good_counted += counts.good
        counted_good = counted_good or counts.good > 0
        defective += counts.defective
        reported += counts.reported_scrap
        ideal_s += ideal_cycle_s(product) * processed
    scrap = defective if defective else min(reported, total)
    good = min(good_counted, total) if counted_good and not defective else max(total - scrap, 0.0)
    availability = run_s / planned_s if planned_s else 0.0
    performance = ideal_s / run_s if run_s else 0.0
    quality = good / total if total else 0.0
    return Figures(
        planned_s,
        downtime_s,
        run_s,
        ideal_s,
        total,
        good,
        scrap,
        availability,
        performance,
        quality,
        availability * performance * quality,
    )
