"""The packaged observability (deploy/prometheus, deploy/grafana) parses and names real things.

Every ``arb_*`` series a rule or a dashboard panel queries is one the services export (their
metrics modules registered in prometheus_client, with the suffixes a scrape shows), and the
scrape config has one job per service of docker-compose.yml on the port that service serves.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
METRICS_MODULES = [
    "arb_runtime.metrics",
    *(f"arb_{s}.metrics" for s in ("ingest", "book", "detector", "executor", "recorder")),
    *(f"arb_{s}.metrics" for s in ("alerter", "dashboard", "simulator")),
]
SERIES = re.compile(r"\barb_[a-z_]+\b")


def exported_series() -> set[str]:
    """Every series name a scrape of our services can show."""
    for module in METRICS_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    for metric in REGISTRY.collect():
        suffixes = {
            "counter": ["_total", "_created"],
            "histogram": ["_bucket", "_sum", "_count", "_created"],
            "summary": ["_sum", "_count", "_created"],
        }.get(metric.type, [""])
        names |= {metric.name + s for s in suffixes}
    return names


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def panel_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "cexarb.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_series_the_rules_and_the_dashboard_query_is_exported():
    exported = exported_series()
    exprs = [r["expr"] for r in rules()] + panel_exprs()
    used = {name for expr in exprs for name in SERIES.findall(expr)}
    assert used, "no arb_* series queried at all"
    assert used <= exported, f"not exported by any service: {sorted(used - exported)}"


def test_the_alerts_cover_the_operator_conditions():
    names = {r["alert"] for r in rules()}
    assert {"ArbUnhedgedLeg", "ArbExposureOpen", "ArbVenueDegraded", "ArbDailyLoss"} <= names
    assert {"ArbBooksNotLive", "ArbServiceDown", "ArbServiceRestarting"} <= names
    assert all(r["labels"]["severity"] in {"warning", "critical"} for r in rules())


def test_prometheus_scrapes_every_service_of_the_compose_file_on_its_metrics_port():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    services = compose()["services"]
    ours = {n for n, s in services.items() if s.get("image") == "cexarb:latest"}
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == ours | {"redis"}
    for name in ours:
        (sd,) = jobs[name]["dns_sd_configs"]
        env = services[name]["environment"]
        port = env.get("ARB_METRICS_PORT") or env.get("ARB_SIMULATOR_METRICS_PORT")
        assert sd["names"] == [name] and sd["port"] == int(port), name
    assert jobs["redis"]["static_configs"] == [{"targets": ["redis-exporter:9121"]}]
    assert "redis-exporter" in services and "prometheus" in services and "grafana" in services


def test_grafana_is_provisioned_with_the_prometheus_of_the_stack_and_the_dashboard():
    sources = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    assert [(s["uid"], s["url"]) for s in sources] == [("prometheus", "http://prometheus:9090")]
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "cexarb.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert uids == {"prometheus"}
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("per second", "live", "latency", "opportunities", "pnl", "exposure"):
        assert topic in titles, topic
    grafana = compose()["services"]["grafana"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not on PATH (Prometheus)")
def test_promtool_accepts_the_config_and_the_rules():
    for args in (
        ["check", "rules", "rules.yml"],
        ["check", "config", "--syntax-only", "prometheus.yml"],
    ):
        out = subprocess.run(["promtool", *args], cwd=DEPLOY / "prometheus", capture_output=True,
                             text=True, timeout=30)  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
