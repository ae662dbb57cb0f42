# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Parts counted per work center, product and quarter hour: what OEE periods are summed from.

Counter messages arrive every minute per machine; keeping each would grow by ~1,500 rows a
day per machine for a figure read per shift. One row per quarter hour instead, upserted in
SQL (``add``: concurrent jobs of one work center add up, never overwrite). Written only by
the message handlers, as superuser; users read it in their plants.
"""

from datetime import timedelta

from odoo import api, fields, models

BUCKET_MINUTES = 15
COUNT_FIELDS = ("processed", "good", "defective", "reported_scrap")


def bucket_start(moment):
    """The quarter hour holding ``moment`` (naive UTC)."""
    return moment.replace(
        minute=moment.minute - moment.minute % BUCKET_MINUTES, second=0, microsecond=0
    )


class MfgOeeBucket(models.Model):
    _name = "mfg.oee.bucket"
    _description = "OEE counts per quarter hour"
    _order = "bucket_start desc"

    workcenter_id = fields.Many2one(
        "mrp.workcenter", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    product_id = fields.Many2one("product.product", readonly=True, ondelete="set null")
    bucket_start = fields.Datetime(required=True, readonly=True)
    processed = fields.Float(readonly=True)
    good = fields.Float(readonly=True)
    defective = fields.Float(readonly=True)
    reported_scrap = fields.Float("Reported scrap", readonly=True)

    def init(self):
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS mfg_oee_bucket_slot ON mfg_oee_bucket "
            "(workcenter_id, COALESCE(product_id, 0), bucket_start)"
        )

    @api.model
    def add(self, workcenter, product, moment, **counts):
        """Add ``counts`` (processed=..., good=..., defective=..., reported_scrap=...) to the
        quarter hour of ``moment``."""
        values = [float(counts.get(name) or 0.0) for name in COUNT_FIELDS]
        self.env.flush_all()
        self.env.cr.execute(
            """INSERT INTO mfg_oee_bucket (workcenter_id, company_id, product_id, bucket_start,
                   processed, good, defective, reported_scrap, create_uid, write_uid, create_date,
                   write_date)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC',
                       now() at time zone 'UTC')
               ON CONFLICT (workcenter_id, COALESCE(product_id, 0), bucket_start) DO UPDATE SET
                   processed = mfg_oee_bucket.processed + EXCLUDED.processed,
                   good = mfg_oee_bucket.good + EXCLUDED.good,
                   defective = mfg_oee_bucket.defective + EXCLUDED.defective,
                   reported_scrap = mfg_oee_bucket.reported_scrap + EXCLUDED.reported_scrap,
                   write_date = EXCLUDED.write_date""",
            (
                workcenter.id,
                (workcenter.company_id or self.env.company).id,
                product.id or None,
                bucket_start(moment),
                *values,
                self.env.uid,
                self.env.uid,
            ),
        )
        self.invalidate_model()

    @api.model
    def counts_between(self, workcenter, start, end):
        """{product id or None: {field: sum}} of the quarter hours starting in [start, end)."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT product_id, sum(processed), sum(good), sum(defective), sum(reported_scrap) "
            "FROM mfg_oee_bucket WHERE workcenter_id = %s "
            "AND bucket_start >= %s AND bucket_start < %s "
            "GROUP BY product_id",
            (workcenter.id, start, end),
        )
        return {
            row[0]: dict(zip(COUNT_FIELDS, row[1:], strict=True)) for row in self.env.cr.fetchall()
        }

    @api.model
    def span(self):
        return timedelta(minutes=BUCKET_MINUTES)
