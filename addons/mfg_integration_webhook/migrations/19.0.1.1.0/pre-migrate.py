# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound keys and subscription secrets move to *_enc columns (see the core's
migration of the same version)."""
from odoo.addons.mfg_integration.hooks import rename_secret_columns

RENAMES = {
    "mfg_connector": ["inbound_api_key"],
    "mfg_webhook_subscription": ["secret"],
}


def migrate(cr, version):
    if version:
        rename_secret_columns(cr, RENAMES)
