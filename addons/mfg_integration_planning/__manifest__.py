# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - Demand Planning",
    "summary": "Forecasts in (CSV or messages) feeding reordering rules, exceptions for items "
    "Odoo cannot replenish, demand-shift re-checks with planner activities; incremental "
    "sales/shipment/inventory history out (CSV and REST push)",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration", "stock", "mrp"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/mfg_integration_planning_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/mfg_demand_forecast_views.xml",
        "views/mfg_planning_export_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/mfg_forecast_import_views.xml",
        "views/mfg_integration_planning_menus.xml",
    ],
}
