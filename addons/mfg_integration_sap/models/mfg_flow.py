# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import datetime, timedelta, timezone

from odoo import _, api, fields, models

from odoo.addons.mfg_integration.services import access

from ..services import sap_bapi

_logger = logging.getLogger(__name__)


class MfgFlow(models.Model):
    """Scheduled pull of production orders from SAP into the inbox.

    The pull only turns SAP orders into canonical ``production.order`` envelopes and hands
    them to ``mfg.message.ingest``: deduplication, validation, mapping, retry and applying
    to manufacturing orders stay the core's (and the MRP addon's) business.
    """

    _inherit = "mfg.flow"

    sap_pull_enabled = fields.Boolean(
        "Pull from SAP", tracking=True,
        help="Inbound production.order flow of an SAP OData/RFC connector: fetch changed "
        "orders on a schedule.")
    sap_pull_interval_min = fields.Integer("Pull every (minutes)", default=15, tracking=True)
    sap_next_pull_at = fields.Datetime("Next pull", copy=False)
    sap_checkpoint = fields.Datetime(
        "Changed since", copy=False, tracking=True,
        help="Orders changed at or after this time are fetched by the next pull; moved "
        "forward only after a pull completed. Clear it to fetch everything again.")
    sap_last_pull_at = fields.Datetime("Last pull", readonly=True, copy=False)
    sap_last_pull_result = fields.Text("Last pull result", readonly=True, copy=False)
    sap_last_pull_ok = fields.Boolean(readonly=True, copy=False)

    @api.model
    def _cron_sap_pull(self):
        now = fields.Datetime.now()
        flows = self.search([("sap_pull_enabled", "=", True), ("active", "=", True),
                             ("canonical_type", "=", "production.order"),
                             ("direction", "=", "in"),
                             "|", ("sap_next_pull_at", "=", False),
                             ("sap_next_pull_at", "<=", now)])
        for flow in flows:
            flow.sap_next_pull_at = now + timedelta(minutes=max(1, flow.sap_pull_interval_min))
            flow.with_delay(
                channel=flow.connector_id.channel_id.complete_name or "root",
                identity_key=f"mfg-sap-pull-{flow.id}",
                description=_("Pull production orders of %s from SAP", flow.connector_id.code),
            )._job_sap_pull()
        return len(flows)

    def _job_sap_pull(self):
        return self._sap_pull_orders()

    def _sap_pull_orders(self):
        """Fetch changed orders page by page and ingest them; return a summary.

        Every page is ingested as it arrives (its messages are durable at once); the
        checkpoint moves only after the last page, so a pull that breaks half-way is
        simply repeated and the pages already stored come back as duplicates.
        """
        self.ensure_one()
        connector = self.connector_id.sudo()
        started = fields.Datetime.now()
        since = self.sap_checkpoint and self.sap_checkpoint.replace(tzinfo=timezone.utc)
        totals = {"fetched": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "skipped": 0}
        newest = since
        try:
            for orders in connector._sap_fetch_orders(since):
                totals["fetched"] += len(orders)
                envelopes, skipped = self._sap_order_envelopes(connector, orders)
                totals["skipped"] += skipped
                if envelopes:
                    result = self.env["mfg.message"].sudo().ingest(envelopes)
                    totals["accepted"] += result["accepted"]
                    totals["duplicates"] += result["duplicates"]
                    totals["rejected"] += len(result["rejected"])
                    for rejected in result["rejected"][:5]:
                        _logger.warning("SAP pull %s: order rejected: %s", connector.code,
                                        rejected["error"])
                changed = [order["changed_at"] for order in orders if order.get("changed_at")]
                if changed:
                    newest = max([newest, *changed]) if newest else max(changed)
        except Exception as exc:  # noqa: BLE001 - recorded on the flow; the next run retries
            summary = _("Pull failed after %(fetched)s order(s), %(accepted)s stored; "
                        "checkpoint kept: %(error)s", error=exc, **totals)
            self._sap_record_pull(started, summary, False)
            return summary
        summary = _("%(fetched)s order(s) fetched: %(accepted)s new message(s), %(duplicates)s "
                    "unchanged, %(rejected)s rejected, %(skipped)s not released", **totals)
        values = {}
        if newest and newest != since:
            values["sap_checkpoint"] = newest.astimezone(timezone.utc).replace(tzinfo=None)
        self._sap_record_pull(started, summary, True, **values)
        return summary

    def _sap_record_pull(self, started, summary, ok, **values):
        self.sudo().write(dict(values, sap_last_pull_at=started, sap_last_pull_result=summary,
                               sap_last_pull_ok=ok))

    def _sap_order_envelopes(self, connector, orders):
        """Normalized SAP orders -> production.order envelopes (and how many were skipped).

        Keys are ``SAP-PRD:<order>:<change timestamp or version>``: the same state of an
        order pulled twice is one message, a changed order a new one.
        """
        known = self._sap_known_orders(connector, [order["order_ref"] for order in orders])
        envelopes, skipped = [], 0
        for order in orders:
            ref = order["order_ref"]
            if order["deleted"]:
                if ref not in known:
                    skipped += 1
                    continue
                action = "cancel"
            elif not order["released"]:
                skipped += 1  # created or planned in SAP, not for the shop floor yet
                continue
            else:
                action = "update" if ref in known else "release"
            known.add(ref)
            changed = order.get("changed_at")
            version = changed.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") if changed \
                else order.get("version") or "0"
            envelope = {
                "key": f"SAP-PRD:{ref}:{version}"[:200],
                "type": "production.order",
                # sap_bapi.order_payload builds v1; the MRP handler reads it upgraded.
                "schema_version": 1,
                "source": connector.code,
                "occurred_at": (changed or datetime.now(timezone.utc)).isoformat(),
                "correlation_id": f"SAP-PRD:{ref}",
                "payload": sap_bapi.order_payload(order, action),
            }
            if order.get("plant"):
                envelope["plant"] = order["plant"]
            envelopes.append(envelope)
        return envelopes, skipped

    def _sap_known_orders(self, connector, refs):
        """Order numbers this connector already sent (release vs update)."""
        if not refs:
            return set()
        # The connector's messages are found through the key table's (source, key) primary
        # key: the partitioned message table has no index on source.
        self.env["mfg.message"].flush_model()
        self.env.cr.execute(
            "SELECT DISTINCT m.payload->>'order_ref' FROM mfg_message_key k "
            "JOIN mfg_message m ON m.id = k.message_id WHERE k.source = %s AND "
            "m.canonical_type = 'production.order' AND m.direction = 'in' AND "
            "m.payload->>'order_ref' = ANY(%s)", (connector.code, list(refs)))
        return {row[0] for row in self.env.cr.fetchall()}

    def action_sap_pull_now(self):
        """Pull this flow's orders now (Integration Operators; runs as superuser with the
        connector's credentials once the flow was read with the user's rights)."""
        self.ensure_one()
        access.ensure_group(self.env, access.OPERATOR, _("pull from SAP"))
        self.check_access("read")
        return self.connector_id._sap_notify(self.sudo()._sap_pull_orders(), True)
