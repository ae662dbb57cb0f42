# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - MRP flows",
    "summary": "Release manufacturing orders to the MES and apply shop-floor events "
    "(confirmations, consumption, scrap, downtime, quality) to mrp, stock and maintenance",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration", "mrp", "stock", "maintenance"],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_mrp_security.xml",
        "data/ir_cron_data.xml",
        "views/mrp_production_views.xml",
        "views/mrp_workcenter_views.xml",
        "views/mfg_quality_hold_views.xml",
        "views/mfg_reconciliation_line_views.xml",
        "views/mfg_integration_mrp_menus.xml",
    ],
    "demo": ["demo/mfg_integration_mrp_demo.xml"],
}
