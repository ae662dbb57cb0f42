# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration Monitoring",
    "summary": "Operations dashboard for the integration hub: throughput, latency p50/p95, "
    "failure rate, queue depth, oldest pending, dead letters and exceptions per plant, "
    "connector and flow; alerts to managers on dead-letter growth and stale queues",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["web", "mail", "mfg_integration"],
    "external_dependencies": {"python": ["prometheus_client"]},
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_monitoring_security.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "views/mfg_message_stats_views.xml",
        "views/mfg_flow_views.xml",
        "views/res_config_settings_views.xml",
        "views/mfg_monitoring_dashboard_action.xml",
        "views/mfg_integration_monitoring_menus.xml",
        "data/metrics_token_action.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "mfg_integration_monitoring/static/src/**/*",
        ],
        "web.assets_tests": [
            "mfg_integration_monitoring/static/tests/tours/**/*",
        ],
    },
}
