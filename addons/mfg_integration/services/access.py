# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Plant-boundary and role checks shared by the integration addons.

Record rules are checked on the records *before* a write; they do not stop a user from
moving a record (or pointing a wizard) into a plant he is not allowed in. These helpers
close that gap wherever a company or a plant-scoped id comes from the caller.
"""
from odoo.exceptions import AccessError

OPERATOR = "mfg_integration.group_mfg_operator"
MANAGER = "mfg_integration.group_mfg_manager"


def ensure_companies_allowed(env, companies, what):
    """Refuse unless every company in ``companies`` is one of the user's allowed plants.

    ``what`` names the record for the error (e.g. "mapping EA"). Superuser calls (crons,
    jobs, code that already checked) pass.
    """
    if env.su:
        return
    foreign = companies.sudo() - env.user.company_ids
    if foreign:
        raise AccessError(env._("%(what)s belongs to plant(s) %(plants)s, which user %(user)s is "
                            "not allowed in.", what=what,
                            plants=", ".join(foreign.mapped("name")), user=env.user.login))


def ensure_group(env, group_xmlid, action):
    """Refuse ``action`` (a sentence fragment) unless the user has ``group_xmlid``."""
    if env.su or env.user.has_group(group_xmlid):
        return
    role = env._("Integration Managers") if group_xmlid == MANAGER else \
        env._("Integration Operators")
    raise AccessError(env._("Only %(role)s can %(action)s.", role=role, action=action))
