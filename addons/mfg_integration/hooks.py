# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tools import SQL


def post_init_hook(env):
    """Connectors created by data files get their queue_job channel too."""
    env["mfg.connector"].with_context(active_test=False).search([])._ensure_channel()


def rename_secret_columns(cr, renames):
    """Migrations: rename plaintext secret columns to their *_enc column, {table: [column]}.
    Renamed rather than copied, so no plaintext copy stays behind in the old column."""
    for table, columns in renames.items():
        for column in columns:
            cr.execute("""
                SELECT column_name FROM information_schema.columns
                 WHERE table_name = %s AND column_name IN (%s, %s)
            """, (table, column, f"{column}_enc"))
            present = {row[0] for row in cr.fetchall()}
            if column in present and f"{column}_enc" not in present:
                cr.execute(SQL("ALTER TABLE %s RENAME COLUMN %s TO %s", SQL.identifier(table),
                               SQL.identifier(column), SQL.identifier(f"{column}_enc")))
