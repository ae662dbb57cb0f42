# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - Warehouse flows",
    "summary": "Validated receipts, deliveries, internal transfers and inventory adjustments "
    "go out as goods.receipt, shipment.confirmation and inventory.move to the subscribed "
    "connectors (a WMS, SAP), in their codes, never echoed",
    "version": "19.0.1.0.0",
    "category": "Inventory/Inventory",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration", "stock"],
    "data": [],
}
