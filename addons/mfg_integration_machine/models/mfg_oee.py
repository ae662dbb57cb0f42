# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""OEE of a work center per shift and per day (services/oee.py has the formulas and a worked
example).

Periods come from the work center's working calendar: each working interval of a day is a shift
(named after its attendance line, e.g. "Monday Morning"), the day is their sum; public holidays
and leaves of the calendar are not planned time. A work center without a calendar plans 24 h.
Records are (re)computed by the quarter-hourly cron for today and yesterday, and on demand from
the work center ("Compute OEE"); they are written as superuser only (users read them in their
plants), so the figures are always what the inputs say.
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models

from ..services import oee

PERIOD_TYPES = [("shift", "Shift"), ("day", "Day")]


class MfgOee(models.Model):
    _name = "mfg.oee"
    _description = "OEE per work center and shift/day"
    _order = "period_start desc, workcenter_id, period_type desc"

    name = fields.Char(required=True, readonly=True)
    workcenter_id = fields.Many2one(
        "mrp.workcenter",
        "Work center",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one("res.company", "Plant", required=True, readonly=True, index=True)
    period_type = fields.Selection(PERIOD_TYPES, "Period", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True, index=True)
    period_start = fields.Datetime("Start", required=True, readonly=True)
    period_end = fields.Datetime("End", required=True, readonly=True)
    planned_min = fields.Float("Planned (min)", readonly=True, digits=(16, 1))
    downtime_min = fields.Float("Stopped (min)", readonly=True, digits=(16, 1))
    run_min = fields.Float("Run (min)", readonly=True, digits=(16, 1))
    ideal_min = fields.Float(
        "Ideal time (min)", readonly=True, digits=(16, 1), help="Ideal cycle time x parts processed"
    )
    total_count = fields.Float("Parts", readonly=True)
    good_count = fields.Float("Good", readonly=True)
    scrap_count = fields.Float("Scrap", readonly=True)
    availability = fields.Float(readonly=True, aggregator="avg", digits=(16, 6))
    performance = fields.Float(readonly=True, aggregator="avg", digits=(16, 6))
    quality = fields.Float(readonly=True, aggregator="avg", digits=(16, 6))
    oee = fields.Float(
        "OEE",
        readonly=True,
        aggregator="avg",
        digits=(16, 6),
        help="Availability x performance x quality. Grouped rows show the plain "
        "average of the periods, not a time-weighted one.",
    )
    computed_at = fields.Datetime(readonly=True)

    _period_uniq = models.Constraint(
        "UNIQUE(workcenter_id, period_type, period_start)",
        "One OEE record per work center and period.",
    )

    # ------------------------------------------------------------- periods
    @api.model
    def _mfg_periods(self, workcenter, day):
        """[(period type, name, start, end, [(start, end) planned intervals])] of ``day`` (a
        date in the calendar's time zone), naive UTC datetimes: each working interval as a
        shift, and the whole calendar day with the shifts as its planned time."""
        calendar = workcenter.resource_calendar_id
        if not calendar:
            start = datetime.combine(day, time.min)
            end = start + timedelta(days=1)
            return [
                ("shift", self.env._("Day"), start, end, [(start, end)]),
                ("day", str(day), start, end, [(start, end)]),
            ]
        zone = pytz.timezone(calendar.tz or "UTC")
        start = zone.localize(datetime.combine(day, time.min))
        end = zone.localize(datetime.combine(day + timedelta(days=1), time.min))
        intervals = calendar._work_intervals_batch(start, end)[False]
        periods, planned = [], []
        for interval_start, interval_end, attendances in intervals:
            begin = interval_start.astimezone(pytz.utc).replace(tzinfo=None)
            finish = interval_end.astimezone(pytz.utc).replace(tzinfo=None)
            label = attendances[:1].name or f"{interval_start:%H:%M}-{interval_end:%H:%M}"
            periods.append(("shift", label, begin, finish, [(begin, finish)]))
            planned.append((begin, finish))
        if planned:
            # The day counts every part of the calendar day (overtime too) against its planned time.
            periods.append(
                (
                    "day",
                    str(day),
                    start.astimezone(pytz.utc).replace(tzinfo=None),
                    end.astimezone(pytz.utc).replace(tzinfo=None),
                    planned,
                )
            )
        return periods

    # --------------------------------------------------------------- inputs
    @api.model
    def _mfg_downtime(self, workcenter, start, end):
        """(start, end) of the availability stops of the work center touching [start, end)."""
        lines = (
            self.env["mrp.workcenter.productivity"]
            .sudo()
            .search(
                [
                    ("workcenter_id", "=", workcenter.id),
                    ("loss_type", "=", "availability"),
                    ("date_start", "<", end),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">", start),
                ]
            )
        )
        now = fields.Datetime.now()
        return [(line.date_start, line.date_end or now) for line in lines]

    @api.model
    def _mfg_figures(self, workcenter, start, end, planned):
        """services.oee.Figures of the work center over [start, end) with ``planned`` intervals."""
        planned_s = sum((e - s).total_seconds() for s, e in planned)
        stops = self._mfg_downtime(workcenter, start, end)
        downtime_s = sum(oee.overlap_seconds(s, e, stops) for s, e in planned)
        counts = {
            product: oee.Counts(**values)
            for product, values in self.env["mfg.oee.bucket"]
            .counts_between(workcenter, start, end)
            .items()
        }
        return oee.figures(planned_s, downtime_s, counts, workcenter._mfg_ideal_cycle_s)

    # -------------------------------------------------------------- compute
    @api.model
    def _mfg_compute(self, workcenters, date_from, date_to):
        """(Re)compute the shift and day records of ``workcenters`` from ``date_from`` to
        ``date_to`` (dates, inclusive); returns them."""
        records = self.browse()
        Oee = self.sudo()
        day = date_from
        while day <= date_to:
            for workcenter in workcenters.sudo():
                for kind, label, start, end, planned in self._mfg_periods(workcenter, day):
                    figures = self._mfg_figures(workcenter, start, end, planned)
                    values = {
                        "name": f"{workcenter.code or workcenter.name} {day} {label}"
                        if kind == "shift"
                        else f"{workcenter.code or workcenter.name} {day}",
                        "date": day,
                        "period_end": end,
                        "computed_at": fields.Datetime.now(),
                        "planned_min": figures.planned_s / 60,
                        "downtime_min": figures.downtime_s / 60,
                        "run_min": figures.run_s / 60,
                        "ideal_min": figures.ideal_s / 60,
                        "total_count": figures.total,
                        "good_count": figures.good,
                        "scrap_count": figures.scrap,
                        "availability": figures.availability,
                        "performance": figures.performance,
                        "quality": figures.quality,
                        "oee": figures.oee,
                    }
                    record = Oee.search(
                        [
                            ("workcenter_id", "=", workcenter.id),
                            ("period_type", "=", kind),
                            ("period_start", "=", start),
                        ],
                        limit=1,
                    )
                    if record:
                        record.write(values)
                    else:
                        record = Oee.create(
                            dict(
                                values,
                                workcenter_id=workcenter.id,
                                period_type=kind,
                                period_start=start,
                                company_id=(workcenter.company_id or self.env.company).id,
                            )
                        )
                    records |= record
            day += timedelta(days=1)
        return records

    @api.model
    def _cron_compute_recent(self):
        """Today and yesterday of every work center that counted parts or stopped lately."""
        since = fields.Datetime.now() - timedelta(days=2)
        workcenters = (
            self.env["mfg.oee.bucket"].sudo().search([("bucket_start", ">=", since)]).workcenter_id
        )
        workcenters |= (
            self.env["mrp.workcenter.productivity"]
            .sudo()
            .search([("date_start", ">=", since)])
            .workcenter_id
        )
        today = fields.Date.context_today(self)
        return len(self._mfg_compute(workcenters, today - timedelta(days=1), today))
