# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - Warehouse flows",
    "summary": "Warehouse flows both ways: validated receipts, deliveries, transfers and "
    "adjustments out as goods.receipt, shipment.confirmation and inventory.move (in the "
    "peers' codes, never echoed); the same types from a WMS applied to pickings and stock",
    "version": "19.0.1.0.0",
    "category": "Inventory/Inventory",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration", "stock"],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_stock_security.xml",
        "data/ir_cron_data.xml",
        "views/mfg_interplant_transfer_views.xml",
        "views/mfg_stock_difference_views.xml",
        "views/mfg_connector_views.xml",
    ],
}
