# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Secrets move to *_enc columns (ciphertext); the plaintext fields become computed.

The old columns are renamed, so their values are not left behind in plaintext; the
data file secret_encryption_data.xml then encrypts them once the module is loaded (and
again at every update, for values left in plaintext while no key was configured).
"""

from odoo.addons.mfg_integration.hooks import rename_secret_columns

RENAMES = {
    "mfg_connector": ["password", "api_key", "client_secret", "hmac_secret"],
}


def migrate(cr, version):
    if version:
        rename_secret_columns(cr, RENAMES)
