# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Manufacturing Integration - SAP",
    "summary": "SAP ERP connector: production orders in (OData/RFC pull, LOIPRO push), "
    "material master to product mappings, confirmations and goods movements out "
    "(RFC/BAPI, SOAP, OData) with SAP's own error texts, lock retries and idempotent re-sends",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Manufacturing",
    "website": "https://github.com/mfg-integration/odoo-mfg-integration",
    "author": "Manufacturing Integration Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["mfg_integration", "mfg_integration_mrp"],
    # pyrfc is optional (imported lazily, RFC connectors only); zeep, requests and lxml
    # come with Odoo.
    "external_dependencies": {"python": ["zeep", "requests", "lxml"]},
    "data": [
        "security/mfg_integration_sap_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/mfg_connector_views.xml",
        "views/mfg_flow_views.xml",
        "views/mfg_sap_material_views.xml",
        "views/mfg_integration_sap_menus.xml",
    ],
    "demo": ["demo/mfg_integration_sap_demo.xml"],
}
