# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - REST (MES)",
    "summary": "REST connector configured in forms: endpoints per flow, declarative "
    "request/response mapping with preview, paginated pulls with since-cursor, OAuth2 "
    "token refresh, 429 Retry-After and 5xx handled with the flow's backoff",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/mfg_integration_rest_security.xml",
        "security/ir.model.access.csv",
        "views/mfg_rest_endpoint_views.xml",
        "views/mfg_connector_views.xml",
        "views/mfg_flow_views.xml",
        "views/mfg_integration_rest_menus.xml",
    ],
    "demo": ["demo/mfg_integration_rest_demo.xml"],
}
