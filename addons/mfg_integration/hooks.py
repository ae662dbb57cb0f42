# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).


def post_init_hook(env):
    """Connectors created by data files get their queue_job channel too."""
    env["mfg.connector"].with_context(active_test=False).search([])._ensure_channel()
