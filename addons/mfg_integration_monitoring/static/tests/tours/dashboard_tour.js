import { registry } from "@web/core/registry";

// The operator opens the dashboard, switches the period and drills into the dead letters.
registry.category("web_tour.tours").add("mfg_integration_monitoring_dashboard", {
    steps: () => [
        {
            content: "KPI cards are shown",
            trigger: ".o_mfg_dashboard .o_mfg_kpi[data-kpi='dead'] .o_mfg_open",
        },
        {
            content: "the flow with a dead letter is red",
            trigger: ".o_mfg_flow_table tr[data-status='red']:contains('machine.alarm from EDGE-TOUR')",
        },
        {
            content: "switch to the last 15 minutes",
            trigger: ".o_mfg_period[data-period='15']",
            run: "click",
        },
        {
            trigger: ".o_mfg_period.active[data-period='15']",
        },
        {
            content: "open the dead letters",
            trigger: ".o_mfg_kpi[data-kpi='dead'] .o_mfg_open",
            run: "click",
        },
        {
            content: "the list shows the dead-letter message",
            trigger: ".o_list_view .o_data_row:contains('tour-dead')",
        },
    ],
});
