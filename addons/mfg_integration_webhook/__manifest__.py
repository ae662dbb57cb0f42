# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration: Webhooks",
    "summary": "Signed outbound webhooks on integration message events (retries, delivery "
    "log, auto-disable) and an authenticated, rate-limited inbound endpoint /mfg/in/<code>",
    "version": "19.0.1.1.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration"],
    "external_dependencies": {"python": ["mfg_canonical", "requests"]},
    "data": [
        "security/mfg_webhook_security.xml",
        "security/ir.model.access.csv",
        "data/mfg_webhook_data.xml",
        "data/secret_encryption_data.xml",
        "views/mfg_webhook_subscription_views.xml",
        "views/mfg_webhook_delivery_views.xml",
        "views/mfg_connector_views.xml",
        "wizards/mfg_inbound_key_rotate_views.xml",
        "views/mfg_webhook_menus.xml",
    ],
    "demo": ["demo/mfg_webhook_demo.xml"],
}
