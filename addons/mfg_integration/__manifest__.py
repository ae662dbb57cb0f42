# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration",
    "summary": "Governed integration hub for the shop floor: connectors, flows, "
    "canonical messages on queue_job with retry, dead-letter and replay, mappings",
    "version": "19.0.1.1.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": ["mail", "rpc", "queue_job", "mrp", "maintenance"],
    "external_dependencies": {
        "python": ["mfg_canonical", "fastjsonschema", "requests", "cryptography"]},
    "data": [
        "security/mfg_integration_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/secret_encryption_data.xml",
        "views/mfg_connector_views.xml",
        "views/mfg_flow_views.xml",
        "views/mfg_message_views.xml",
        "views/mfg_mapping_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/mfg_message_edit_views.xml",
        "wizards/mfg_flow_replay_views.xml",
        "views/mfg_integration_menus.xml",
    ],
    "demo": ["demo/mfg_integration_demo.xml"],
    "post_init_hook": "post_init_hook",
}
