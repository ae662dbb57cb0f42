"""The monitoring profile (docker/monitoring): Prometheus config, alert rules and the Grafana
dashboard parse, and every metric they use is one that Odoo's /mfg/metrics or the edge bridge's
/metrics exports (a renamed metric would leave a panel empty and an alert silent)."""
import json
import re
from pathlib import Path

import yaml
from edge_bridge.observability import Metrics
from prometheus_client import generate_latest

ROOT = Path(__file__).resolve().parent.parent
MONITORING = ROOT / "docker" / "monitoring"
METRIC = re.compile(r"\b((?:mfg|edge)_[a-z0-9_]+)")


def exported_names():
    odoo_source = (ROOT / "addons" / "mfg_integration_monitoring" / "services" / "prometheus.py").read_text()
    names = set()
    for kind, name in re.findall(r"(Gauge|Histogram)MetricFamily\(\s*\"(\w+)\"", odoo_source):
        names.add(name)
        if kind == "Histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    bridge = generate_latest(Metrics().registry).decode()
    for kind_line in re.findall(r"# TYPE (\w+) (\w+)", bridge):
        name, kind = kind_line
        names.add(name)
        if kind == "counter":
            names.add(f"{name}_total")
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def test_prometheus_scrapes_odoo_with_a_token_and_the_bridge():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["odoo-mfg"]["metrics_path"] == "/mfg/metrics"
    assert jobs["odoo-mfg"]["authorization"]["type"] == "Bearer"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_every_alert_and_panel_uses_exported_metrics():
    names = exported_names()
    assert {"mfg_messages_backlog", "mfg_queue_oldest_pending_seconds", "edge_buffer_pending"} <= names
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"][0]["rules"]
    exprs = {rule["alert"]: rule["expr"] for rule in rules}
    assert {"MfgDeadLettersGrowing", "MfgQueueStale", "MfgEdgeBridgeSilent"} <= set(exprs)
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "mfg-integration.json").read_text())
    exprs.update({panel["title"]: target["expr"] for panel in dashboard["panels"]
                  for target in panel["targets"]})
    unknown = {where: sorted(set(METRIC.findall(expr)) - names) for where, expr in exprs.items()}
    assert not {where: missing for where, missing in unknown.items() if missing}
    assert all(METRIC.findall(expr) for expr in exprs.values()), "every expression reads a metric"
