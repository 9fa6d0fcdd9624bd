"""A real agent runs a service in podman containers (the web image built at
test time, tests/images.py; docker's driver runs real containers in
tests/unit/test_container_driver.py):
a blue-green switch and a rollback through the agent's router under wrk
load fail no request; kill -9 of the agent in the middle of a switch leaves
the active container serving, and once the agent is back what it reports
matches ``podman ps``; kill and pause faults go through the engine."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import (
    BIN,
    Daemon,
    TlsController,
    db_rows,
    free_port,
    start_tls_controller,
    tls_agent_argv,
    wait_until,
)
from tests.helpers import switchman as sm
from tests.images import (
    RUN_ARGS,
    WebImages,
    engine_args,
    engine_slots,
    remove_containers,
    web_images_fixture,  # noqa: F401 (offers the session fixture `web_images` here)
)

pytestmark = pytest.mark.slow
ADDRESS = "127.0.0.57"
MAX_REQUESTS = 300_000  # the load loop's bounds: whichever comes first
MAX_SECONDS = 90
# the load was real: at least this many requests crossed the switch and the rollback (the rate is printed;
# speed belongs to the benchmarks: on a quiet machine it is 650-1,000 req/s, under other runs 100-500)
MIN_REQUESTS = 300

# counts the responses per body (the version that served) and stops after MAX_REQUESTS
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) seen = {}; limit = tonumber(args[1]); n = 0 end
function response(status, headers, body)
  n = n + 1
  local v = string.gsub(body, "%s+$", "")
  seen[v] = (seen[v] or 0) + 1
  if n >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("seen")) do io.write(string.format("served %s %d\\n", k, v)) end
  end
end
"""


@dataclass
class Agent:
    engine: str
    tmp: Path
    tls: TlsController
    cli: list[str]
    front: int
    back: dict[str, int]

    @property
    def owner(self) -> str:
        return f"switchman.owner={self.tmp / 'a' / 'logs'}"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return sm(*self.cli, *argv)

    def reported(self) -> dict[str, tuple[str, int, str]]:
        """slot -> (version, pid, state) as the agent reports it through the controller."""
        r = self.run("-o", "json", "service", "show", "web")
        if r.returncode:
            return {}
        [host] = json.loads(r.stdout)["hosts"]
        return {s["slot"]: (s["version"], int(s.get("pid", 0)), s["state"]) for s in host["slots"] if s["version"]}

    def engine_ps(self) -> dict[str, tuple[str, int, str]]:
        """slot -> (version, pid, state) of this agent's containers, as the engine lists them (``podman ps``)."""
        return engine_slots(self.engine, self.owner)


def get(address: str, port: int, path: str = "/version") -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}:{port}{path}", timeout=2) as r:
            return str(r.read().decode().strip())
    except OSError:
        return ""


@pytest.fixture(params=["podman"])  # docker's engine path is tested for real in tests/unit/test_container_driver.py
def agent(
    request: pytest.FixtureRequest, tmp_path: Path, daemons: list[Daemon], web_images: WebImages
) -> Iterator[Agent]:
    engine = str(request.param)
    image = web_images.get(engine)
    tls = start_tls_controller(tmp_path, daemons, ("web-1",))
    a = Agent(engine, tmp_path, tls, tls.cli_args(tmp_path / "c"), free_port(ADDRESS), {})
    a.back = {"blue": free_port(ADDRESS), "green": free_port(ADDRESS)}
    (tmp_path / "web.toml").write_text(f"""
name = "web"
driver = "{engine}"
image = "{image.image}"
command = ["/bin/serve", "{{address}}", "{{port}}"]
engine_args = {json.dumps(list(engine_args(engine)))}
run_args = {json.dumps(list(RUN_ARGS))}
front_port = {a.front}
back_ports = {{ blue = {a.back["blue"]}, green = {a.back["green"]} }}
drain_timeout = "2s"
healthy_deadline = "30s"
[probe]
kind = "http"
path = "/health"
interval = "300ms"
timeout = "300ms"
success_before_passing = 2
""")
    try:
        yield a
    finally:
        for d in daemons:
            d.stop()
        remove_containers(engine, a.owner)


def start_agent(a: Agent, daemons: list[Daemon], log: str) -> Daemon:
    d = Daemon(tls_agent_argv(a.tls, a.tmp / "a", "web-1", ADDRESS), a.tmp / log)
    daemons.append(d.start())
    wait_until(lambda: "web-1" in a.run("hosts").stdout, 30, what="agent registered")
    return d


def parse_wrk(text: str) -> dict[str, int | float]:
    assert "requests in" in text, text
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    served: dict[str, int] = {}
    for version, n in re.findall(r"served (\S+) (\d+)", text):  # one line per thread and version
        served[version] = served.get(version, 0) + int(n)
    return {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "failed": (sum(int(x) for x in m.groups()) if m else 0) + (int(non2xx.group(1)) if non2xx else 0),
        "served_1": served.get("1", 0),
        "served_2": served.get("2", 0),
    }


def test_container_switch_and_rollback_under_load_fail_no_request(agent: Agent, daemons: list[Daemon]) -> None:
    a = agent
    start_agent(a, daemons, "a.log")
    assert a.run("service", "apply", str(a.tmp / "web.toml")).returncode == 0
    r = a.run("service", "switch", "web", "--host", "web-1", "--version", "1")
    assert r.returncode == 0, r.stderr
    assert get(ADDRESS, a.front) == "1"
    script = a.tmp / "count.lua"
    script.write_text(WRK_SCRIPT)
    url = f"http://{ADDRESS}:{a.front}/version"
    quiet = subprocess.run(["wrk", "-t1", "-c8", "-d3s", url], capture_output=True, text=True, timeout=30).stdout
    print(f"{a.engine}, through the router, nothing switching: {parse_wrk(quiet)}")
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c8", f"-d{MAX_SECONDS}s", "--timeout", "5s", "-s", str(script), url, "--", str(MAX_REQUESTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        r = a.run("-o", "json", "service", "switch", "web", "--host", "web-1", "--version", "2")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["active_version"] == "2" and doc["active_slot"] == "green"
        # polled on the back port, not with the CLI: a CLI run costs more CPU than the load loop can spare
        wait_until(lambda: get(ADDRESS, a.back["blue"]) == "1", 30, what="blue kept warm")
        r = a.run("-o", "json", "service", "rollback", "web", "--host", "web-1")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["active_version"] == "1" and doc["flip_latency_ms"] < 1000  # a flip to the warm slot
        wait_until(lambda: get(ADDRESS, a.back["green"]) == "2", 30, what="green kept warm")
        assert wrk.poll() is None, "the load ended before the rollback did: raise MAX_REQUESTS"
    finally:
        wrk.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        out, _ = wrk.communicate(timeout=30)
    got = parse_wrk(out)
    print(f"{a.engine} switch+rollback under load: {got}")
    assert got["failed"] == 0, out
    assert got["served_1"] > 0 and got["served_2"] > 0, out  # both versions answered during the run
    assert got["served_1"] + got["served_2"] == got["requests"], out
    assert got["requests"] >= MIN_REQUESTS, out
    assert get(ADDRESS, a.front) == "1"
    # what the agent reports is what the engine runs: blue 1 active, green 2 warm, same pids
    wait_until(lambda: a.reported() == {k: (v, p, "healthy") for k, (v, p, _) in a.engine_ps().items()}, 20)
    assert {k: v[0] for k, v in a.engine_ps().items()} == {"blue": "1", "green": "2"}
    log = (a.tmp / "a" / "logs" / "web" / "blue.log").read_text()
    assert "serve: version 1 listening on" in log  # container output in the slot's log, as for processes


def test_agent_killed_mid_switch_leaves_a_serving_container_and_reports_what_the_engine_runs(
    agent: Agent, daemons: list[Daemon]
) -> None:
    a = agent
    first = start_agent(a, daemons, "a.log")
    assert a.run("service", "apply", str(a.tmp / "web.toml")).returncode == 0
    assert a.run("service", "switch", "web", "--host", "web-1", "--version", "1").returncode == 0
    blue_pid = a.engine_ps()["blue"][1]
    # the switch to 3-slow probes a container that does not listen yet: kill the agent meanwhile
    switching = subprocess.Popen(
        [str(BIN / "switchman"), *a.cli, "service", "switch", "web", "--host", "web-1", "--version", "3-slow"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state = a.tmp / "a" / "services.db"
    wait_until(lambda: db_rows(state, "SELECT phase FROM services") == [("switching",)], 20, what="switch under way")
    wait_until(lambda: a.engine_ps().get("green", ("", 0, ""))[2] == "running", 20, what="green container started")
    first.kill9()
    switching.wait(60)
    # the agent is gone (and its router with it): the active container still serves on its back port
    assert get(ADDRESS, a.back["blue"]) == "1"
    assert a.engine_ps()["blue"] == ("1", blue_pid, "running")
    second = start_agent(a, daemons, "a2.log")
    wait_until(lambda: get(ADDRESS, a.front) == "1", 30, what="front port served again after the restart")
    wait_until(lambda: db_rows(state, "SELECT phase, active_version FROM services") == [("idle", "1")], 20)
    assert "undoing it" in second.log() and "adopted container" in second.log()
    # the half-started green container is gone; blue was adopted, not restarted
    wait_until(lambda: set(a.engine_ps()) == {"blue"}, 20, what="green removed")
    assert a.engine_ps()["blue"] == ("1", blue_pid, "running")
    wait_until(lambda: a.reported() == {"blue": ("1", blue_pid, "healthy")}, 20, what="reported state = podman ps")


def test_container_kill_and_pause_faults_go_through_the_engine(agent: Agent, daemons: list[Daemon]) -> None:
    a = agent
    first = start_agent(a, daemons, "a.log")
    assert a.run("service", "apply", str(a.tmp / "web.toml")).returncode == 0
    assert a.run("service", "switch", "web", "--host", "web-1", "--version", "1").returncode == 0
    _, pid, _ = a.engine_ps()["blue"]

    r = a.run("chaos", "inject", "web-1", "pause", "--duration", "60s", "--service", "web")
    assert r.returncode == 0, r.stderr
    assert a.engine_ps()["blue"][2] == "paused"  # the cgroup freezer, through `podman pause` / `docker pause`
    assert get(ADDRESS, a.back["blue"], "/health") == ""  # frozen: no answer
    # an agent killed while the fault is on reverts it at its next start, through the engine
    first.kill9()
    start_agent(a, daemons, "a2.log")
    wait_until(lambda: a.engine_ps()["blue"][2] == "running", 20, what="unpaused by the restarted agent")
    wait_until(lambda: get(ADDRESS, a.front) == "1", 20, what="served again")
    assert a.engine_ps()["blue"][1] == pid  # the same container: frozen and thawed, never restarted

    r = a.run("chaos", "inject", "web-1", "kill", "--duration", "30s", "--service", "web", "signal=KILL")
    assert r.returncode == 0, r.stderr
    # `podman kill` / `docker kill` leaves it stopped; the driver's restart policy starts it again
    wait_until(lambda: a.engine_ps()["blue"][1] not in (0, pid), 30, what="restarted with a new pid")
    wait_until(lambda: get(ADDRESS, a.front) == "1", 20, what="served after the kill")
    wait_until(
        lambda: a.reported().get("blue", ("", 0, ""))[1:] == (a.engine_ps()["blue"][1], "healthy"),
        20,
        0.5,
        "the agent to report the new container's pid",
    )
    r = a.run("-o", "json", "service", "show", "web")
    [slot] = [s for s in json.loads(r.stdout)["hosts"][0]["slots"] if s["slot"] == "blue"]
    assert slot["restarts"] >= 1
    assert a.run("chaos", "halt", "web-1").returncode == 0
