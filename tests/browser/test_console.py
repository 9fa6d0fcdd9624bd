"""The web console in Debian's Chromium (driven by Playwright, no browser
download): a real controller on TLS with three agents, tokens of each role,
every page with real data, a rollout started from the CLI advancing on an
open page, an incident acked, a silence made, faults halted, a viewer
refused. Screenshots of each page are kept under the test's directory."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.test_rollouts import HOSTS, Fleet, start_fleet
from tests.helpers import BIN, Daemon, controller_argv, db_rows, free_port, wait_until

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium")

RULES = """groups:
  - name: console
    interval: 500ms
    rules:
      - alert: ConsoleDrill
        expr: vector(1)
        labels: {severity: page, service: hello}
        annotations: {summary: "hello needs a look"}
"""

SLO = """
version: prometheus/v1
service: hello
slos:
  - name: availability
    objective: 95
    sli: {probe: {service: hello}}
    alerting: {name: HelloAvailabilityBurn}
"""

DRILL = """title: fleet check
targets: {selector: {role: web}, mode: all}
steady_state:
  - name: every host up
    expr: count(up{job="node"} == 1) == 3
faults:
  - {kind: latency, duration: 5s, service: hello, params: {latency: 10ms}}
recovery_timeout: 30s
"""

# the page records when each host's state cell changes, in the browser's clock (the same machine's)
RECORD_CHANGES = """() => {
  window.__changes = [];
  const section = document.getElementById("rollout");
  new MutationObserver(() => {
    for (const row of section.querySelectorAll("tr[data-host]")) {
      const state = row.querySelector(".host-state").textContent.trim();
      const last = window.__changes.filter((c) => c.host === row.dataset.host).pop();
      if (!last || last.state !== state) window.__changes.push({host: row.dataset.host, state, at: Date.now()});
    }
  }).observe(section, {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: run `make system-deps` (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Console:
    def __init__(self, browser: Browser, url: str, shots: Path) -> None:
        self.browser, self.url, self.shots = browser, url, shots
        self.errors: list[str] = []

    def open(self, token: str) -> tuple[BrowserContext, Page]:
        # bypass_csp: only so that the test can evaluate its own probes in the page (the CSP forbids eval)
        context = self.browser.new_context(
            ignore_https_errors=True, bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("dialog", lambda d: d.accept())
        page.goto(f"{self.url}/fleet")
        assert "/login" in page.url, "no session: the console sends you to log in"
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.url}/fleet")
        return context, page

    def visit(self, page: Page, path: str, shot: str) -> None:
        started = time.monotonic()
        response = page.goto(f"{self.url}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        page.wait_for_load_state("load")
        assert time.monotonic() - started < 5, f"{path} took {time.monotonic() - started:.1f}s"
        page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)


def create_token(f: Fleet, name: str, role: str) -> str:
    out = f.run("-o", "json", "token", "create", "--name", name, "--role", role)
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["token"])


def audit(f: Fleet) -> list[dict[str, Any]]:
    return list(json.loads(f.run("-o", "json", "audit", "list").stdout))


@pytest.mark.timeout(300)
def test_the_console_in_chromium(tmp_path: Path, daemons: list[Daemon], browser: Browser) -> None:
    http = free_port()
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "slo.yml").write_text(SLO)
    (tmp_path / "c.toml").write_text('slo_interval = "1s"\n')
    f = start_fleet(
        tmp_path,
        daemons,
        "--http-listen",
        f"127.0.0.1:{http}",
        "--config",
        str(tmp_path / "c.toml"),
        "--rule-file",
        str(tmp_path / "rules.yml"),
        "--slo-file",
        str(tmp_path / "slo.yml"),
    )
    operator, viewer = create_token(f, "oncall", "operator"), create_token(f, "watcher", "viewer")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    console = Console(browser, f"https://127.0.0.1:{http}", shots)
    _, page = console.open(operator)

    # the fleet: three hosts up, with their vitals from one query per panel
    assert page.locator("#hosts tbody tr[data-host]").count() == 3
    assert {page.locator(f'tr[data-host="{h}"] .state').inner_text() for h, _ in HOSTS} == {"up"}
    wait_until(
        lambda: page.reload() and page.locator('tr[data-host="web-1"] meter').count() == 3,
        30,
        what="CPU, memory and disk of web-1",
    )
    console.visit(page, "/fleet?selector=role%3Dweb", "fleet")
    console.visit(page, "/fleet?selector=role%3Ddb", "fleet-filtered")
    assert page.locator("#hosts tbody tr[data-host]").count() == 0
    console.visit(page, "/hosts/web-1", "host")
    assert page.locator("svg.chart-svg path").count() >= 2, "the host's charts have lines"

    # a rollout started from the CLI advances on the open service page, without reload
    console.visit(page, "/services/hello", "service-before")
    page.wait_for_function("document.getElementById('rollout').dataset.stream === 'open'")
    page.evaluate(RECORD_CHANGES)
    started = subprocess.Popen(
        [str(BIN / "switchman"), *f.cli, "rollout", "start", "hello", "--version", "1", "--min-healthy", "1s"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert started.wait(60) == 0
    page.wait_for_function(
        "document.querySelector('#rollout [data-field=state]')?.textContent === 'succeeded'", timeout=120_000
    )
    page.screenshot(path=str(shots / "service-rollout.png"), full_page=True)
    [rollout] = json.loads(f.run("-o", "json", "rollout", "list").stdout)
    [(stored,)] = db_rows(tmp_path / "c" / "controller.db", "SELECT doc FROM rollouts WHERE id = ?", (rollout["id"],))
    changes = page.evaluate("window.__changes")
    for h in json.loads(str(stored))["hosts"]:
        for state, changed_ms in (("switching", h["started_ms"]), (h["state"], h["updated_ms"])):
            seen = [c for c in changes if c["host"] == h["host_id"] and c["state"] == state]
            assert seen, (h, state, changes)
            assert seen[0]["at"] - changed_ms < 1000, (
                f"{h['host_id']} {state} shown {seen[0]['at'] - changed_ms} ms after"
            )
    assert page.url.endswith("/services/hello"), "no reload, no navigation"
    console.visit(page, f"/rollouts/{rollout['id']}", "rollout")

    # the alert fires and opens an incident: ack it from the page
    wait_until(lambda: f.run("-o", "json", "incidents", "list").stdout.count('"triggered"'), 60, what="an incident")
    console.visit(page, "/incidents", "incidents")
    page.click("#incidents tbody a >> nth=0")
    page.click("#ack")
    page.wait_for_selector("#incident-state:text('acknowledged')")
    page.screenshot(path=str(shots / "incident.png"), full_page=True)
    assert any(e["action"] == "AckIncident" and e["actor"] == "oncall" and e["result"] == "ok" for e in audit(f))

    # silence the alert from the alerts page: the matchers come filled in
    console.visit(page, "/alerts", "alerts")
    page.click("#alerts a.button >> nth=0")
    assert 'alertname="ConsoleDrill"' in page.input_value("#matchers")
    page.fill("#comment", "looking at it")
    page.click("#new-silence button[type=submit]")
    page.wait_for_url(f"{console.url}/silences")
    assert page.locator("#silences tbody tr.active").count() == 1
    page.screenshot(path=str(shots / "silences.png"), full_page=True)
    silences = json.loads(f.run("-o", "json", "silence", "list").stdout)
    assert [s["createdBy"] for s in silences] == ["oncall"]

    # a fault injected from the CLI, halted from the chaos page
    assert (
        f.run(
            "chaos", "inject", "web-2", "latency", "--duration", "5m", "--service", "hello", "latency=50ms"
        ).returncode
        == 0
    )
    console.visit(page, "/chaos", "chaos")
    assert page.locator("table.faults >> nth=0").locator("tbody tr").count() == 1
    page.click("#halt")
    page.wait_for_url(f"{console.url}/chaos")
    wait_until(lambda: page.reload() and page.locator("#halt[disabled]").count() == 1, 30, what="no fault active")

    # the other pages, each with real data
    console.visit(page, "/query?expr=up&range=15m", "query")
    assert page.locator("#result tbody tr").count() >= 3 and page.locator("svg.chart-svg").count() == 1
    console.visit(page, "/query?expr=sum(rate(x%5B5m%5D)", "query-error")
    assert "1:16" in page.inner_text("#query-error") and "^" in page.inner_text("#query-error pre")
    wait_until(lambda: f.run("-o", "json", "slo", "list").stdout.count('"attained"'), 30, what="an SLO")
    console.visit(page, "/slos", "slos")
    assert "hello / availability" in page.inner_text("main")
    assert page.locator(".slo svg.chart-svg").count() == 2, "budget and burn charts with data"
    (tmp_path / "drill.yml").write_text(DRILL)
    f.run("drill", "run", str(tmp_path / "drill.yml"), "--dry-run", "--wait")
    console.visit(page, "/drills", "drills")
    page.click("#drills tbody a >> nth=0")
    assert "fleet check" in page.inner_text("#report")
    page.screenshot(path=str(shots / "drill.png"), full_page=True)
    console.visit(page, "/audit?verify=1", "audit")
    assert "The chain holds" in page.inner_text("#verdict")
    console.visit(page, "/services", "services")
    # a narrow window: nothing spills sideways (wide tables scroll in their own box); the keyboard reaches the content
    page.set_viewport_size({"width": 420, "height": 800})
    console.visit(page, "/fleet", "fleet-narrow")
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")

    # a viewer sees no buttons, and a forged post is refused and audited
    _, watching = console.open(viewer)
    console.visit(watching, "/incidents/1", "incident-viewer")
    assert (
        watching.locator("#ack, #resolve, #close").count() == 0
        and watching.locator("form[action$='/note']").count() == 0
    )
    console.visit(watching, "/silences", "silences-viewer")
    assert watching.locator("#new-silence").count() == 0
    csrf = watching.locator("body").get_attribute("data-csrf")
    forged = watching.request.post(f"{console.url}/incidents/1/resolve", form={"csrf": csrf or ""}, max_redirects=0)
    assert forged.status == 403
    assert any(
        e["action"] == "ResolveIncident" and e["actor"] == "watcher" and e["result"].startswith("denied")
        for e in audit(f)
    )
    no_csrf = watching.request.post(f"{console.url}/chaos/halt", form={}, max_redirects=0)
    assert no_csrf.status == 403
    # logging out ends the session: the next page asks for a login again
    watching.click(".who button")
    watching.wait_for_url(f"{console.url}/login")
    watching.goto(f"{console.url}/alerts")
    assert "/login?next=%2Falerts" in watching.url
    assert console.errors == []


LOAD_RULE = """groups:
  - name: load
    interval: 5s
    rules:
      - alert: LoadSeen
        expr: node_load1 >= 0
        labels: {severity: ticket}
"""


def first_render_ms(page: Page, url: str) -> float:
    response = page.goto(url)
    assert response is not None and response.status == 200
    timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
    entry = json.loads(timing)
    return float(entry["domContentLoadedEventEnd"] - entry["startTime"])


@pytest.mark.timeout(240)
def test_fleet_and_alerts_pages_of_2000_hosts_render_within_a_second(
    tmp_path: Path, daemons: list[Daemon], browser: Browser
) -> None:
    from bench.query_api import Shape, load_controller  # the query benchmark's fleet: 2,000 node-shaped hosts

    shape = Shape(2000, int(time.time()) - 2, 2, 15, 7)
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, load_controller(shape, tmp_path / "c")).result()
    (tmp_path / "rules.yml").write_text(LOAD_RULE)
    http = free_port()
    argv = controller_argv(tmp_path / "c", free_port(), None, "--http-listen", f"127.0.0.1:{http}")
    daemons.append(
        Daemon([*argv, "--heartbeat-ttl", "1h", "--rule-file", str(tmp_path / "rules.yml")], tmp_path / "c.log").start()
    )
    wait_until(lambda: (tmp_path / "c" / "admin.token").exists(), 30, what="the controller")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    console = Console(browser, f"http://127.0.0.1:{http}", shots)
    _, page = console.open((tmp_path / "c" / "admin.token").read_text().strip())
    assert "2000 hosts" in page.inner_text("p.count")
    assert page.locator("#hosts tbody tr[data-host]").count() == 50 and "page 1 of 40" in page.inner_text(".pager")
    wait_until(
        lambda: page.goto(f"{console.url}/alerts") and "2000 firing" in page.inner_text("#alert-count"),
        60,
        what="an alert per host",
    )
    for path in ("/fleet", "/fleet?page=21", "/alerts", "/alerts?page=11"):
        renders = sorted(first_render_ms(page, f"{console.url}{path}") for _ in range(3))
        assert renders[1] < 1000, f"{path}: first render {renders} ms"
    page.screenshot(path=str(shots / "alerts-2000.png"))
    page.click("a[rel=next]")
    assert "page 12 of 20" in page.inner_text(".pager")
    assert console.errors == []
