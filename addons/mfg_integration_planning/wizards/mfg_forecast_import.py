# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.mfg_integration.services import access

from ..services import forecast_csv


class MfgForecastImport(models.TransientModel):
    """Upload a forecast CSV: good rows go through ``mfg.message.ingest`` as canonical
    demand.forecast envelopes; bad rows are listed with their line and reasons."""

    _name = "mfg.forecast.import"
    _description = "Import Demand Forecast (CSV)"

    connector_id = fields.Many2one(
        "mfg.connector", required=True, string="Planning system",
        help="The system the forecast comes from: its code is the messages' source and its "
        "mappings translate the codes of the file.")
    file = fields.Binary("CSV file", required=True)
    filename = fields.Char()
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    accepted = fields.Integer(readonly=True)
    duplicates = fields.Integer(readonly=True)
    error_count = fields.Integer("Rows with errors", readonly=True)
    result = fields.Text(readonly=True)

    @api.model
    def _default_connector(self):
        flow = self.env["mfg.flow"].search([("canonical_type", "=", "demand.forecast"),
                                            ("direction", "=", "in")], limit=1)
        return flow.connector_id

    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "connector_id" in fields_list and not values.get("connector_id"):
            values["connector_id"] = self._default_connector().id
        return values

    def action_import(self):
        """Ingest the file's good rows for the chosen planning system (Integration Operators,
        for a connector of one of their plants)."""
        self.ensure_one()
        access.ensure_group(self.env, access.OPERATOR, _("import forecasts"))
        # The connector id comes from the caller and the import ingests as superuser into
        # the connector's plant: it must be a connector the user sees, of his plants.
        self.connector_id.check_access("read")
        access.ensure_companies_allowed(self.env, self.connector_id.company_id,
                                        _("Planning system %s", self.connector_id.sudo().code))
        raw = base64.b64decode(self.file or b"")
        connector = self.connector_id.sudo()
        lookup = self.env["mfg.mapping"].sudo()._lookup_cache()

        def resolve(kind, code):
            return lookup(connector.id, connector.company_id.id, kind, code) is not None

        try:
            rows = list(forecast_csv.read_rows(raw))
        except (forecast_csv.CsvFileError, UnicodeError) as exc:
            raise UserError(_("%(file)s cannot be imported, nothing was stored: %(error)s",
                              file=self.filename or _("The file"), error=exc)) from None
        prefix = forecast_csv.file_key_prefix(raw)
        now = fields.Datetime.now().isoformat() + "+00:00"
        envelopes, lines, errors = [], [], []
        for line, row in rows:
            payload, problems = forecast_csv.check_row(row, resolve)
            if problems:
                errors.append(_("Line %(line)s: %(problems)s", line=line,
                                problems="; ".join(problems)))
                continue
            envelopes.append({"key": f"{prefix}:{line}", "type": "demand.forecast",
                              "schema_version": 1, "source": connector.code,
                              "occurred_at": now, "payload": payload})
            lines.append(line)
        result = self.env["mfg.message"].sudo().ingest(envelopes) if envelopes else {
            "accepted": 0, "duplicates": 0, "rejected": []}
        for rejected in result["rejected"]:
            errors.append(_("Line %(line)s: %(error)s", line=lines[rejected["index"]],
                            error=rejected["error"]))
        summary = _("%(ok)s row(s) imported, %(dup)s already imported, %(bad)s with errors "
                    "(not imported).", ok=result["accepted"], dup=result["duplicates"],
                    bad=len(errors))
        self.write({"state": "done", "accepted": result["accepted"],
                    "duplicates": result["duplicates"], "error_count": len(errors),
                    "result": "\n".join([summary] + errors)})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": _("Forecast import")}
