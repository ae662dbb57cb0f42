# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from odoo.addons.mfg_integration.registry import Transport

# In cr.cache (per transaction; cleared on rollback, unlike cr.precommit.data which every
# savepoint flush clears): ids that reached a trigger state.
PENDING_KEY = "mfg_integration_webhook.message_ids"
# In cr.precommit.data, so it goes away together with the callback it stands for:
HOOKED_KEY = "mfg_integration_webhook.hooked"


def _flush_pending(env):
    pending = env.cr.cache.pop(PENDING_KEY, None)
    if pending:
        env["mfg.webhook.delivery"].sudo()._create_for_messages(pending)


class MfgMessage(models.Model):
    """Hook the message state machine: webhooks fire when a message reaches a state.

    A write only remembers the ids (a set on the cursor); subscriptions are evaluated in
    bulk by a pre-commit callback. Pre-commit callbacks also run whenever a savepoint is
    flushed, and the processing job opens one savepoint per message, so inside a job (the
    core puts ``mfg_processing_job`` in the context) the callback is registered only by
    the core's ``_after_job_process`` hook, when the whole chunk is done: one evaluation
    per job, not per message. A message is judged by its state at that time
    (a rolled-back savepoint or a later transition are taken into account).
    """

    _inherit = "mfg.message"

    @api.model
    def _mfg_transports(self):
        # A webhook peer receives Odoo's messages as the core's signed envelope POST.
        return {**super()._mfg_transports(), "webhook_in": Transport("_mfg_send_envelope")}

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        states = self.env["mfg.webhook.subscription"]._active_trigger_states()
        if states:
            messages.filtered(lambda m: m.state in states)._webhook_remember()
        return messages

    def write(self, vals):
        result = super().write(vals)
        state = vals.get("state")
        if state and state in self.env["mfg.webhook.subscription"]._active_trigger_states():
            self._webhook_remember()
        return result

    def _after_job_process(self):
        result = super()._after_job_process()
        self._webhook_hook_commit()
        return result

    def _webhook_remember(self):
        if not self:
            return
        self.env.cr.cache.setdefault(PENDING_KEY, set()).update(self.ids)
        if not self.env.context.get("mfg_processing_job"):
            self._webhook_hook_commit()

    def _webhook_hook_commit(self):
        cache, data = self.env.cr.cache, self.env.cr.precommit.data
        if cache.get(PENDING_KEY) and not data.get(HOOKED_KEY):
            data[HOOKED_KEY] = True
            env = self.env
            self.env.cr.precommit.add(lambda: _flush_pending(env))
