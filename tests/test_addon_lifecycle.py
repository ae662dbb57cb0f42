"""mfg_integration installs into an empty database and uninstalls without leftovers."""

from odoo_harness import OdooServer, drop_db, odoo_shell

UNINSTALL = """
import json
module = env["ir.module.module"].search([("name", "=", "mfg_integration")])
module.button_immediate_uninstall()
env.cr.commit()
print(json.dumps({"state": env["ir.module.module"].search([("name", "=", "mfg_integration")]).state}))
"""


def test_install_then_uninstall_leaves_nothing(tmp_path):
    server = OdooServer().install()
    try:
        tables = {row[0] for row in server.query(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'mfg_%%'")}
        assert {"mfg_connector", "mfg_flow", "mfg_message", "mfg_mapping"} <= tables
        assert server.query("SELECT count(*) FROM queue_job_channel WHERE complete_name = 'root.mfg'")[0][0] == 1
        assert odoo_shell(server.db, UNINSTALL) == {"state": "uninstalled"}
        leftovers = server.query(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'mfg_%%'")
        assert leftovers == []
        assert server.query("SELECT count(*) FROM ir_model WHERE model LIKE 'mfg.%%'")[0][0] == 0
        assert server.query("SELECT count(*) FROM res_groups_users_rel r JOIN ir_model_data d "
                            "ON d.res_id = r.gid AND d.model = 'res.groups' "
                            "WHERE d.module = 'mfg_integration'")[0][0] == 0
    finally:
        drop_db(server.db)
