# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from mfg_canonical import available_types

from odoo import api, fields, models


class MfgWebhookEventType(models.Model):
    """A canonical message type a webhook subscription can listen to.

    A model rather than a text list so the subscription form offers a tag picker; rows
    are seeded from the canonical schema package (the only source of type names).
    """

    _name = "mfg.webhook.event.type"
    _description = "Webhook event type"
    _order = "name"

    name = fields.Char(required=True, readonly=True)
    active = fields.Boolean(default=True)

    _name_uniq = models.Constraint("UNIQUE(name)", "This event type already exists.")

    @api.model
    def _sync_from_canonical(self):
        """Create a row for every canonical type not known yet (run on install/update)."""
        known = set(self.with_context(active_test=False).search([]).mapped("name"))
        missing = sorted(set(available_types()) - known)
        return self.create([{"name": name} for name in missing])
