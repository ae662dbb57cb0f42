# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - Machine data (OEE, meters, alarms)",
    "summary": "Machine counters, stops, scrap and alarms from the shop floor feed Odoo: OEE per "
    "work center and shift/day (availability x performance x quality), equipment meters that "
    "open preventive maintenance once per threshold, critical alarms that open corrective "
    "requests per alarm code",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration_mrp"],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_machine_security.xml",
        "data/ir_cron_data.xml",
        "wizards/mfg_setpoint_send_views.xml",
        "views/mfg_oee_views.xml",
        "views/mrp_workcenter_views.xml",
        "views/mfg_equipment_meter_views.xml",
        "views/mfg_alarm_rule_views.xml",
        "views/mfg_integration_machine_menus.xml",
    ],
    "demo": ["demo/mfg_integration_machine_demo.xml"],
}
