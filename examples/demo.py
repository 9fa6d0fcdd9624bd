"""`make demo`: a controller and three agents on loopback, then the CLI.

Everything runs on mutual TLS with certificates made on the fly
(`switchman certs init|issue`) and the CLI uses the first-start admin token.
This version shows the telemetry path: three agents on 127.0.0.2-4 register,
push host metrics, one is killed and turns `down` after the heartbeat TTL,
comes back `up`, and every sample it collected meanwhile arrives; then the
sample service goes to version 1 on every host and, under steady load on the
front ports, each host switches to version 2 and one rolls back, with the
count of failed requests shown (zero). Ends by
itself and stops every process it started; `KEEP=1 make demo` leaves the
fleet running and prints the commands to explore it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make `examples` importable
from examples.load import Load  # noqa: E402

RUN = ROOT / "demo-run"
BIN = Path(sys.executable).parent
KEEP = os.environ.get("KEEP", "") not in ("", "0")
AGENTS = [("web-1", "127.0.0.2", "a"), ("web-2", "127.0.0.3", "b"), ("web-3", "127.0.0.4", "c")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def say(text: str) -> None:
    print(f"\n\033[1;36m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


PKI = RUN / "pki"


class Fleet:
    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.port = free_port()
        self.ops_port = free_port()
        self.http_port = free_port()

    def start(self, name: str, argv: list[str]) -> None:
        log = (RUN / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def controller(self) -> None:
        # from a config file, as under systemd: edit it and `kill -HUP` the controller to reload rule files
        (RUN / "controller.toml").write_text(
            f'listen = "127.0.0.1:{self.port}"\n'
            f'ops_listen = "127.0.0.1:{self.ops_port}"\n'
            f'data_dir = "{RUN / "controller"}"\n'
            f'tls_dir = "{PKI / "controller"}"\n'
            'metrics_listen = "127.0.0.1:0"\n'
            f'http_listen = "127.0.0.1:{self.http_port}"\n'
            'heartbeat_interval = "1s"\n'
            'heartbeat_ttl = "4s"\n'
            'auto_resolve_after = "3s"\n'
            f'rule_files = ["{RUN / "rules"}/*.yml"]\n'
        )
        self.start("controller", [str(BIN / "switchman-controller"), "--config", str(RUN / "controller.toml")])

    def agent(self, host: str, address: str, zone: str) -> None:
        # a probe through the service's front port, as its users see it (the drill slows this path)
        (RUN / f"{host}.toml").write_text(
            f'[[probe]]\nname = "front"\nkind = "http"\naddress = "{address}:18080"\npath = "/"\n'
            'interval = "1s"\ntimeout = "300ms"\n'
        )
        self.start(
            host,
            [
                str(BIN / "switchman-agent"),
                "--config",
                str(RUN / f"{host}.toml"),
                "--tls-dir",
                str(PKI / "agents" / host),
                "--controller",
                f"127.0.0.1:{self.port}",
                "--listen",
                f"{address}:7100",
                "--data-dir",
                str(RUN / host),
                "--host-id",
                host,
                "--label",
                "role=web",
                "--label",
                f"zone={zone}",
                "--interval",
                "1s",
                "--metrics-listen",
                f"{address}:9109",
                "--backoff-cap",
                "1s",
            ],
        )

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in self.procs.items():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it")
                p.kill()
                p.wait(5)
        # service slots outlive their agent on purpose (an agent restart adopts them); the demo stops them too
        slots = [q for q in psutil.process_iter(["cmdline"]) if str(RUN / "hello.py") in (q.info["cmdline"] or [])]
        for q in slots:
            q.terminate()
        _, alive = psutil.wait_procs(slots, timeout=10)
        for q in alive:
            q.kill()


def api_query(fleet: Fleet, expr: str) -> str:
    """One instant query through the controller's HTTP API (TLS, the admin token), one line per series."""
    token = (RUN / "controller" / "admin.token").read_text().strip()
    url = f"https://127.0.0.1:{fleet.http_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=str(PKI / "ca.pem"))
    with urllib.request.urlopen(request, timeout=30, context=context) as resp:
        result = json.loads(resp.read())["data"]["result"]
    return "\n".join(f"  {r['metric']} => {r['value'][1]}" for r in result)


def console_url(fleet: Fleet) -> str:
    """The web console's address, once its login page answers."""
    url = f"https://127.0.0.1:{fleet.http_port}"
    context = ssl.create_default_context(cafile=str(PKI / "ca.pem"))
    with urllib.request.urlopen(f"{url}/login", timeout=30, context=context) as resp:
        if resp.status != 200:
            raise SystemExit(f"demo: the console's login page answered {resp.status}")
    return url


def cli(fleet: Fleet, *args: str, check: bool = True) -> str:
    token = (RUN / "controller" / "admin.token").read_text().strip()
    argv = [
        str(BIN / "switchman"),
        "--tls-dir",
        str(PKI),
        "--controller",
        f"127.0.0.1:{fleet.ops_port}",
        "--token",
        token,
        *args,
    ]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if check and r.returncode != 0:
        why = r.stderr.strip() or "\n".join(r.stdout.strip().splitlines()[-5:]) or f"exit {r.returncode}"
        raise SystemExit(f"demo: `switchman {' '.join(args)}` failed: {why}\n(logs are in {RUN})")
    return r.stdout


def leftovers() -> list[psutil.Process]:
    """Processes of an earlier demo (KEEP=1): daemons and service slots, found by the run directory."""
    mine = str(RUN)
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if p.pid != os.getpid() and any(mine in arg for arg in p.info["cmdline"] or []):
            found.append(p)
    return found


def stop_leftovers() -> int:
    """SIGTERM what an earlier demo left running, then SIGKILL what is still there after 20 s."""
    procs = leftovers()
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=20)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)
    return len(procs)


def wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise SystemExit(f"demo: timed out waiting for {what}; logs are in {RUN}")


def services_part(fleet: Fleet) -> None:
    say("switchman service apply examples/hello/service.toml; version 1 on the three hosts")
    spec = (ROOT / "examples" / "hello" / "service.toml").read_text()
    shutil.copy(ROOT / "examples" / "hello" / "app.py", RUN / "hello.py")  # under demo-run/: found again at clean-up
    spec = spec.replace(
        '"/usr/bin/env", "python3", "examples/hello/app.py"',
        f'"{sys.executable}", "{RUN / "hello.py"}"',
    )
    (RUN / "hello.toml").write_text(spec)
    print(cli(fleet, "service", "apply", str(RUN / "hello.toml")))
    print(
        cli(
            fleet,
            "rollout",
            "start",
            "hello",
            "--version",
            "1",
            "--max-parallel",
            "3",
            "--min-healthy",
            "1s",
            "--watch",
        )
    )
    say(
        "steady load on every host's front port (:18080) during a canary rollout to version 2:"
        " switchman rollout start hello --version 2 --strategy canary --watch"
    )
    with Load([(address, 18080) for _, address, _ in AGENTS]) as load:
        time.sleep(1)
        print(
            cli(
                fleet,
                "rollout",
                "start",
                "hello",
                "--version",
                "2",
                "--strategy",
                "canary",
                "--bake",
                "4s",
                "--min-healthy",
                "2s",
                "--max-parallel",
                "2",
                "--watch",
            )
        )
        time.sleep(1)
    print(f"\n  {load.ok + load.failed} requests, {load.failed} failed; answered by version: {load.versions}")
    print(cli(fleet, "service", "show", "hello"))


RULES = """groups:
  - name: demo
    interval: 1s
    rules:
      - alert: HelloFrontSlow
        expr: probe_success{probe="front"} == 0 and on(host) probe_success{service="hello"} == 1
        for: 2s
        labels: {severity: page, service: hello}
        annotations: {summary: "hello is slow or down on {{ $labels.host }}"}
"""

DRILL = """title: latency on one web host
description: HelloFrontSlow should page, an incident open, and hello recover by itself
targets: {selector: {role: web}, mode: one}
steady_state:
  - name: every front answers in time
    expr: min(probe_success{probe="front"}) == 1
faults:
  - {kind: latency, duration: 8s, service: hello, params: {latency: 600ms}}
recovery_timeout: 60s
"""


def chaos_part(fleet: Fleet) -> None:
    say("a chaos drill: 600ms of latency on one host's front port for 8s (switchman drill run --wait)")
    (RUN / "drill.yml").write_text(DRILL)
    print(cli(fleet, "drill", "run", str(RUN / "drill.yml"), "--wait", check=False))
    say("switchman incidents list --all  (HelloFrontSlow paged; the incident resolved itself when hello recovered)")
    wait(
        lambda: (
            "resolved" in cli(fleet, "incidents", "list", "--all")
            and "triggered" not in cli(fleet, "incidents", "list")
        ),
        30,
        "the incident resolving",
    )
    print(cli(fleet, "incidents", "list", "--all"))
    say("switchman drill report 1")
    print(cli(fleet, "drill", "report", "1"))


def main() -> int:
    if sys.argv[1:] == ["stop"]:  # make demo-stop
        print(f"stopped {stop_leftovers()} process(es) of the demo in {RUN}")
        return 0
    if stop_leftovers():
        print(f"stopped the processes an earlier demo left running in {RUN}")
    shutil.rmtree(RUN, ignore_errors=True)
    RUN.mkdir()
    fleet = Fleet()
    started = time.monotonic()
    try:
        say("making the fleet's CA and certificates: switchman certs init / certs issue agent NAME")
        for argv in (
            ["init", "--dir", str(PKI)],
            *(["issue", "--dir", str(PKI), "agent", h, "--san", a] for h, a, _ in AGENTS),
        ):
            r = subprocess.run([str(BIN / "switchman"), "certs", *argv], capture_output=True, text=True, check=False)
            if r.returncode != 0:
                raise SystemExit(f"demo: switchman certs {' '.join(argv)} failed: {r.stderr.strip()}")
        say(
            f"starting a controller (agents: 127.0.0.1:{fleet.port} mTLS, CLI: 127.0.0.1:{fleet.ops_port} TLS + token)"
            " and three agents on 127.0.0.2-4"
        )
        (RUN / "rules").mkdir()
        (RUN / "rules" / "demo.yml").write_text(RULES)
        fleet.controller()
        wait(lambda: (RUN / "controller" / "admin.token").exists(), 30, "the controller")
        for host, address, zone in AGENTS:
            fleet.agent(host, address, zone)
        wait(lambda: cli(fleet, "hosts", "--state", "up").count(" up ") == 3, 30, "three hosts up")
        say("switchman hosts")
        print(cli(fleet, "hosts"))
        say("switchman query 'node_load1'  (PromQL selectors over the controller's SQLite store)")
        print(cli(fleet, "query", "node_load1"))

        say(f"Prometheus' HTTP API on https://127.0.0.1:{fleet.http_port} (Grafana, promtool): /api/v1/query?query=up")
        print(api_query(fleet, "up"))
        say(f"the web console: {console_url(fleet)}/  (log in with the admin token)")
        print(f"  token: {(RUN / 'controller' / 'admin.token').read_text().strip()}")

        say("kill -9 web-3: it turns down after the heartbeat TTL (4s here), its spool waits")
        fleet.procs["web-3"].kill()
        fleet.procs["web-3"].wait()
        wait(lambda: " down " in cli(fleet, "hosts"), 20, "web-3 down")
        print(cli(fleet, "status"))
        say("start web-3 again: it registers, turns up, and replays what it spooled")
        fleet.agent(*AGENTS[2])
        wait(lambda: cli(fleet, "hosts", "--state", "up").count(" up ") == 3, 30, "web-3 back up")
        time.sleep(2)  # two more collection cycles for the chart
        say("switchman query 'node_memory_MemAvailable_bytes' --range 30s --step 1s")
        print(cli(fleet, "query", "node_memory_MemAvailable_bytes", "--range", "30s", "--step", "1s"))
        services_part(fleet)
        chaos_part(fleet)
        say("switchman status")
        print(cli(fleet, "status"))
        if KEEP:
            token = RUN / "controller" / "admin.token"
            say("the fleet keeps running (KEEP=1). Try:")
            print(
                f"  export SWITCHMAN_CONTROLLER=127.0.0.1:{fleet.ops_port} SWITCHMAN_TOKEN=$(cat {token})"
                f" SWITCHMAN_TLS_DIR={PKI}"
            )
            print(f"  open {console_url(fleet)}/ and log in with the token in {token} (its CA: {PKI / 'ca.pem'})")
            print("  .venv/bin/switchman status")
            print("  .venv/bin/switchman hosts show web-1")
            print("  .venv/bin/switchman query 'node_cpu_seconds_total{mode=\"user\"}' -o json")
            print("  .venv/bin/switchman audit list")
            print("  curl -s 127.0.0.2:9109/metrics | head")
            api = f"https://switchman:$(cat {token})@127.0.0.1:{fleet.http_port}"
            print(f"  SSL_CERT_FILE={PKI / 'ca.pem'} promtool query instant {api} 'node_load1'")
            print(
                f"  curl -s --cacert {PKI / 'ca.pem'} -u switchman:$(cat {token}) https://127.0.0.1:{fleet.http_port}/api/v1/labels"
            )
            print(f"  add a rule file: write {RUN / 'rules'}/mine.yml, then")
            print(
                f"    .venv/bin/switchman rules check {RUN / 'rules'}/mine.yml && kill -HUP {fleet.procs['controller'].pid}"
            )
            print("  stop everything it started (daemons and service slots): make demo-stop")
            return 0
        say(f"demo finished in {time.monotonic() - started:.0f}s; stopping every process it started")
    except BaseException:
        fleet.stop()
        raise
    fleet.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
