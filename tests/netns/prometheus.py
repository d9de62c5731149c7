"""A real Prometheus for the labs' dashboard checks: it scrapes the given
targets every second from a namespace of the lab; query(expr) asks its
HTTP API. Started (and so stopped) through the Lab."""
import json
import os
import subprocess
import urllib.parse

from lab import REPO, require, wait_for

PROMETHEUS = "/usr/bin/prometheus"


def start_prometheus(lab, ns, directory, targets):
    """Returns query(expr) -> the result list, once every target is up."""
    require(os.path.exists(PROMETHEUS), "prometheus (Debian package prometheus)")
    cfg = os.path.join(directory, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mapgw\n"
                "    static_configs:\n      - targets: [%s]\n" % ", ".join("'%s'" % t for t in targets))
    lab.spawn(ns, [PROMETHEUS, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(directory, "tsdb"),
                   "--web.listen-address=127.0.0.1:9090"],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(expr):
        url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        out = lab.run(ns, ["curl", "-s", url], capture=True)
        return json.loads(out)["data"]["result"]

    wait_for(lambda: len([r for r in query("up") if r["value"][1] == "1"]) == len(targets), timeout=30,
             what="every target scraped")
    return query


def vpn_row_panels(prefix):
    """The panels of the dashboard's VPN row whose titles start with @prefix."""
    with open(os.path.join(REPO, "dashboards", "mapgw.json")) as f:
        dash = json.load(f)
    row = [x for x in dash["panels"] if x.get("type") == "row" and x["title"].startswith("VPN")][0]
    return [p for p in row["panels"] if p["title"].startswith(prefix)]
