import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const REFRESH_MS = 30000;

/**
 * Operations dashboard of the integration hub: KPI cards and one table per plant,
 * connector and flow. All figures come from mfg.message.stats/get_dashboard_data, which
 * also gives the mfg.message domain behind each number (clicking opens that list).
 */
export class IntegrationDashboard extends Component {
    static template = "mfg_integration_monitoring.Dashboard";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.periods = [
            { minutes: 15, label: _t("15 min") },
            { minutes: 60, label: _t("1 hour") },
            { minutes: 1440, label: _t("24 hours") },
        ];
        this.state = useState({ period: 60, data: null, error: null });
        onWillStart(() => this.load());
        onMounted(() => {
            this.timer = setInterval(() => this.load(), REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async load() {
        try {
            this.state.data = await this.orm.silent.call(
                "mfg.message.stats", "get_dashboard_data", [this.state.period]
            );
            this.state.error = null;
        } catch (error) {
            // Keep the last figures on screen; say that they are not fresh.
            this.state.error = error.data?.message || error.message || String(error);
        }
    }

    setPeriod(minutes) {
        this.state.period = minutes;
        return this.load();
    }

    get total() {
        return this.state.data.total;
    }

    /** Rows of the table: each connector followed by its flows. */
    get tableRows() {
        const rows = [];
        for (const connector of this.state.data.connectors) {
            rows.push(connector);
            rows.push(...this.state.data.flows.filter((f) => f.connector_id === connector.connector_id));
        }
        return rows;
    }

    openMessages(row, metric, label) {
        const domain = row.domains[metric];
        const scope = row.flow_name || row.connector_name || row.company_name || _t("All plants");
        return this.action.doAction({
            type: "ir.actions.act_window",
            name: `${label} – ${scope}`,
            res_model: "mfg.message",
            domain,
            views: [[false, "list"], [false, "form"]],
            context: { create: false },
        });
    }

    statusClass(status) {
        return { green: "text-bg-success", amber: "text-bg-warning", red: "text-bg-danger" }[status];
    }

    formatRate(value) {
        return value.toFixed(value >= 10 ? 0 : 2);
    }

    formatMs(ms) {
        if (ms === null || ms === undefined) {
            return "–";
        }
        return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
    }

    formatPercent(fraction) {
        return fraction === null || fraction === undefined ? "–" : `${(fraction * 100).toFixed(1)} %`;
    }

    formatAge(seconds) {
        if (seconds === null || seconds === undefined) {
            return "–";
        }
        if (seconds < 120) {
            return `${Math.round(seconds)} s`;
        }
        return seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
    }
}

registry.category("actions").add("mfg_integration_monitoring.dashboard", IntegrationDashboard);
