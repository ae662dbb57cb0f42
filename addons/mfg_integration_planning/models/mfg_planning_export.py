# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io
import json
from datetime import timedelta

import requests

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mfg_integration.exceptions import MfgSecretError
from odoo.addons.mfg_integration.services import access
from odoo.addons.mfg_integration.services.transport import (
    ForeignHostError,
    PeerRejected,
    TransportError,
    check_same_origin,
    send_with_auth,
)

EXPORT_KINDS = [
    ("sales", "Sales (customer demand)"),
    ("shipments", "Shipments to customers"),
    ("inventory", "Inventory on hand"),
]


class MfgPlanningExport(models.Model):
    """Incremental export of history for a planning tool, as CSV file and/or REST push.

    Each run exports the records changed since the checkpoint (write date + id, so rows
    written in the same second are neither skipped nor repeated) and moves the checkpoint
    only once the file is stored and the push, if any, was accepted.
    """

    _name = "mfg.planning.export"
    _description = "Planning History Export"
    _inherit = ["mail.thread"]
    _order = "name"
    # The push runs with the connector's credentials under sudo(): the connector must be
    # one of the export's plant.
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", string="Plant", required=True, tracking=True,
                                 default=lambda self: self.env.company)
    kind = fields.Selection(EXPORT_KINDS, required=True, default="shipments", tracking=True)
    store_file = fields.Boolean("Store CSV file", default=True, tracking=True)
    push_url = fields.Char("Push to URL", tracking=True,
                           help="Each run POSTs its rows as JSON to this URL.")
    connector_id = fields.Many2one("mfg.connector", tracking=True, check_company=True,
                                   help="Authentication, timeout and TLS settings of the push.")
    interval_min = fields.Integer("Every (minutes)", default=1440, tracking=True)
    next_run_at = fields.Datetime(tracking=True)
    batch_limit = fields.Integer("Rows per run", default=50000)
    checkpoint_date = fields.Datetime("Exported up to", copy=False, tracking=True,
                                      help="Clear it to export the whole history again.")
    checkpoint_id = fields.Integer(copy=False)
    last_run_at = fields.Datetime(readonly=True, copy=False)
    last_run_ok = fields.Boolean(readonly=True, copy=False)
    last_run_result = fields.Text(readonly=True, copy=False)
    attachment_count = fields.Integer("Exported files", compute="_compute_attachment_count")

    def _compute_attachment_count(self):
        counts = dict(self.env["ir.attachment"]._read_group(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)], ["res_id"],
            ["__count"]))
        for export in self:
            export.attachment_count = counts.get(export.id, 0)

    # ---------------------------------------------------------------- sources
    def _source(self):
        """(model, domain) of the records this export reads."""
        company = [("company_id", "=", self.company_id.id)]
        customer_moves = company + [("location_dest_id.usage", "=", "customer")]
        if self.kind == "shipments":
            return "stock.move", customer_moves + [("state", "=", "done")]
        if self.kind == "sales":
            if "sale.order.line" in self.env:
                return "sale.order.line", company + [("state", "=", "sale")]
            # Without the Sales app, demand is what is due to go to customers.
            return "stock.move", customer_moves + [("state", "not in", ("draft", "cancel"))]
        return "stock.quant", company + [("location_id.usage", "=", "internal")]

    def _row(self, record):
        if record._name == "stock.quant":
            return {"product": record.product_id.default_code or record.product_id.name,
                    "location": record.location_id.complete_name,
                    "warehouse": record.location_id.warehouse_id.code or "",
                    "quantity": record.quantity, "reserved": record.reserved_quantity,
                    "uom": record.product_uom_id.name,
                    "updated_at": fields.Datetime.to_string(record.write_date)}
        if record._name == "sale.order.line":
            return {"reference": record.order_id.name,
                    "product": record.product_id.default_code or record.product_id.name,
                    "quantity": record.product_uom_qty, "uom": record.product_uom_id.name,
                    "date": fields.Datetime.to_string(record.order_id.date_order),
                    "customer": record.order_id.partner_id.display_name,
                    "warehouse": record.order_id.warehouse_id.code or "",
                    "state": record.state,
                    "updated_at": fields.Datetime.to_string(record.write_date)}
        return {"reference": record.reference or record.picking_id.name or "",
                "product": record.product_id.default_code or record.product_id.name,
                "quantity": record.product_qty, "uom": record.product_id.uom_id.name,
                "date": fields.Datetime.to_string(record.date),
                "customer": record.partner_id.display_name or
                record.picking_id.partner_id.display_name or "",
                "warehouse": record.warehouse_id.code or
                record.location_id.warehouse_id.code or "",
                "state": record.state,
                "updated_at": fields.Datetime.to_string(record.write_date)}

    def _pending_records(self):
        model, domain = self._source()
        if self.checkpoint_date:
            domain = domain + ["|", ("write_date", ">", self.checkpoint_date), "&",
                               ("write_date", "=", self.checkpoint_date),
                               ("id", ">", self.checkpoint_id)]
        return self.env[model].sudo().with_company(self.company_id).search(
            domain, order="write_date, id", limit=self.batch_limit or None)

    # ---------------------------------------------------------------- running
    @api.model
    def _cron_run_exports(self):
        now = fields.Datetime.now()
        for export in self.search(["|", ("next_run_at", "=", False),
                                   ("next_run_at", "<=", now)]):
            export.next_run_at = now + timedelta(minutes=max(1, export.interval_min))
            export._run()

    def action_run_now(self):
        """Export now (Integration Managers: the run reads the plant's history as
        superuser and pushes it with the connector's credentials)."""
        access.ensure_group(self.env, access.MANAGER, _("run a planning export now"))
        self.check_access("write")
        for export in self:
            export._run()
        return True

    def _run(self):
        """Export what changed since the checkpoint; (ok, summary)."""
        self.ensure_one()
        records = self._pending_records()
        now = fields.Datetime.now()
        if not records:
            return self._done(True, _("Nothing new since %s.", self.checkpoint_date or "-"))
        rows = [self._row(record) for record in records]
        try:
            if self.push_url:
                self._push(rows)
        except (TransportError, PeerRejected, MfgSecretError) as exc:
            return self._done(False, _("Push failed, checkpoint unchanged (the rows are sent "
                                       "again next time): %s", exc))
        if self.store_file:
            self.env["ir.attachment"].sudo().create({
                "name": f"{self.kind}_{now.strftime('%Y%m%d_%H%M%S')}.csv",
                "raw": self._csv(rows), "mimetype": "text/csv",
                "res_model": self._name, "res_id": self.id})
        last = records[-1]
        self.write({"checkpoint_date": last.write_date, "checkpoint_id": last.id})
        return self._done(True, _("%(n)s row(s) exported, up to %(date)s.", n=len(rows),
                                  date=last.write_date))

    def _done(self, ok, text):
        self.write({"last_run_at": fields.Datetime.now(), "last_run_ok": ok,
                    "last_run_result": text})
        return ok, text

    @staticmethod
    def _csv(rows):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode()

    def _push(self, rows):
        body = json.dumps({"export": self.name, "kind": self.kind,
                           "company": self.company_id.name,
                           "since": fields.Datetime.to_string(self.checkpoint_date) or None,
                           "rows": rows}, default=str)
        headers = {"Content-Type": "application/json"}
        if self.connector_id:
            response = send_with_auth(self.connector_id.sudo(), "POST", self.push_url,
                                      headers=headers, data=body)
        else:
            try:
                response = requests.post(self.push_url, data=body, headers=headers, timeout=30)
            except requests.RequestException as exc:
                raise TransportError(f"POST {self.push_url}: {exc}") from exc
        if response.status_code >= 400:
            error = PeerRejected if 400 <= response.status_code < 500 else TransportError
            raise error(f"HTTP {response.status_code} from {self.push_url}: "
                        f"{response.text[:300]}")

    def action_view_files(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Exported files"),
                "res_model": "ir.attachment", "view_mode": "list,form",
                "domain": [("res_model", "=", self._name), ("res_id", "=", self.id)]}

    @api.model_create_multi
    def create(self, vals_list):
        exports = super().create(vals_list)
        access.ensure_companies_allowed(self.env, exports.company_id, _("A planning export"))
        return exports

    def write(self, vals):
        if "checkpoint_date" in vals and not vals["checkpoint_date"]:
            vals["checkpoint_id"] = 0
        result = super().write(vals)
        if "company_id" in vals:
            access.ensure_companies_allowed(self.env, self.company_id, _("A planning export"))
        return result

    @api.constrains("push_url", "connector_id")
    def _check_push_url_on_connector_host(self):
        """The connector's credentials go with the push: only to the connector's own host
        (checked again at every push, redirects included)."""
        for export in self:
            if export.push_url and export.connector_id:
                connector = export.connector_id.sudo()
                try:
                    check_same_origin([connector.endpoint_url], export.push_url,
                                      f"connector {connector.code}",
                                      reason=_("the push URL must be on the connector's host"))
                except ForeignHostError as exc:
                    raise UserError(str(exc)) from None

    @api.constrains("interval_min", "batch_limit")
    def _check_numbers(self):
        for export in self:
            if export.interval_min < 1 or export.batch_limit < 1:
                raise UserError(_("Interval and rows per run must be at least 1."))
