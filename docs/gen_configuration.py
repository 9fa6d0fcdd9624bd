"""Regenerate docs/configuration.md from the daemons' key tables:
``.venv/bin/python docs/gen_configuration.py``. tests/unit/test_docs.py fails
when the page and this script's output differ."""

from __future__ import annotations

import json
from pathlib import Path

from switchman.agent.config import KEYS as AGENT_KEYS
from switchman.controller.config import KEYS as CONTROLLER_KEYS
from switchman.proto.durations import format_duration_ms
from switchman.proto.settings import Key

PAGE = Path(__file__).resolve().parent / "configuration.md"
DAY_MS = 86_400_000


def default(k: Key) -> str:
    """The default as it would be written in the TOML file."""
    d = k.default
    if d is None:
        return "(required)"
    if k.kind == "duration" and isinstance(d, float):
        ms = int(d * 1000)
        return f'`"{ms // DAY_MS}d"`' if ms >= DAY_MS and ms % DAY_MS == 0 else f'`"{format_duration_ms(ms)}"`'
    if k.kind == "size" and isinstance(d, int):
        return f'`"{d // 2**20}MiB"`'
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, dict):
        if not d:
            return "`{}`"
        return "`{ " + ", ".join(f"{key} = {json.dumps(v)}" for key, v in d.items()) + " }`"
    return f"`{json.dumps(d)}`"


def cell(text: str) -> str:
    """Markdown table cell text: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


def table(keys: tuple[Key, ...], singular: dict[str, str]) -> str:
    rows = ["| key | flag | kind | default | meaning |", "|---|---|---|---|---|"]
    for k in keys:
        flag = "(table)" if k.kind == "tables" else "`--" + singular.get(k.name, k.name).replace("_", "-") + "`"
        rows.append(f"| `{k.name}` | {flag} | {k.kind} | {cell(default(k))} | {cell(k.help)} |")
    return "\n".join(rows)


HEAD = """# Configuration reference

Both daemons read a TOML file (`--config FILE`; by default
`/etc/switchman/agent.toml` or `/etc/switchman/controller.toml` when it
exists) and take a flag for every key; a flag wins over the file (a list
given by repeated flags replaces the file's list). Durations are
Prometheus-style (`500ms`, `10s`, `5m`, `1h30m`, `7d`); sizes take
`KiB`/`MiB`/`GiB`. Unknown keys, bad kinds and bad durations are refused with
one line naming the file (or `command line`) and the key, and exit code 2.

`--insecure` (plaintext gRPC) is accepted only when every address involved
is loopback; otherwise give `--tls-dir DIR` holding `ca.pem`, `cert.pem` and
`key.pem` (made by `switchman certs init|issue`). Samples:
`packaging/etc/agent.toml`, `packaging/etc/controller.toml`.
"""

AGENT = """
## Agent (`switchman-agent`)

{table}

Repeat `--label K=V` for several labels. `SIGHUP` re-reads the file and
applies `labels` and the `[[probe]]` tables (the configured probes are
restarted); an invalid file or probe is refused, logged, and the running
configuration kept. Other keys need a restart. With TLS the agent's gRPC
port requires a client certificate and answers only the controller's
(`switchman-controller`). The series the agent exports are listed in
[metrics.md](metrics.md).
"""

CONTROLLER = """
## Controller (`switchman-controller`)

{table}

With TLS, `listen` requires a client certificate from the fleet CA (agents;
the certificate's name must equal the host id an agent claims), and
`ops_listen` serves only the Ops API to a CLI that holds just `ca.pem` and a
token. Without TLS (`--insecure`), everything is served on `listen`.
`switchman-controller migrate` applies pending schema migrations and exits.

### Rule, SLO and drill files, notifiers

`rule_files` ([alerting.md](alerting.md)), `slo_files` ([slos.md](slos.md))
and `drill_files` ([chaos.md](chaos.md)) are lists of paths and globs; on
the command line `--rule-file`, `--slo-file` and `--drill-file`, repeated.
Globs are expanded by the controller in its working directory (`/` under
systemd), so give absolute paths; a glob that matches nothing loads nothing,
a plain path that does not exist is an error. At start the controller loads
every file they match and refuses to start (exit 2, printing the errors as
`FILE:LINE:COL: message`) when one is invalid. The `[[notifiers]]` and
`[[inhibit_rules]]` tables ([alerting.md](alerting.md)) are read from the
config file.

`SIGHUP` (`systemctl reload switchman-controller`, or `kill -HUP PID`):

* expands the controller's globs again and re-reads every file they match:
  rule files, SLO files (their burn-rate alerts are rebuilt) and drill files
  (their schedules too). A new file that matches a glob is loaded, a removed
  one is dropped, an edited one is read again;
* re-reads the config file for `[[notifiers]]` and `[[inhibit_rules]]`.

It does not re-read the lists of globs themselves: the controller keeps the
`rule_files`, `slo_files` and `drill_files` it started with, whether they
came from the config file or from flags. A new glob (or any other key)
needs a restart. Each of the four parts is replaced whole or not at all: one
invalid rule file keeps the whole running rule set (likewise the SLOs, the
drills and the notifiers); the reason is logged (`reload refused, keeping
the running rules:` and the errors) and recorded in the audit log
(`switchman audit list`: actor `signal:SIGHUP`, action `ReloadConfig`,
result `ok` or `refused: ...`).

### Adding a rule file to a running controller

1. Once: point the controller at a directory of rule files in
   `/etc/switchman/controller.toml` and restart it
   (`systemctl restart switchman-controller`):

   ```toml
   rule_files = ["/etc/switchman/rules/*.yml"]
   ```

2. Write the new file there, say `/etc/switchman/rules/hello.yml` (the names
   of the series to write rules against: [metrics.md](metrics.md)).
3. Check it where you wrote it: `switchman rules check
   /etc/switchman/rules/hello.yml` (local, no controller needed; exit 1 with
   `FILE:LINE:COL: message` for each error). `switchman rules test
   TESTFILE` runs unit tests of it in promtool's format.
4. `systemctl reload switchman-controller` (or `kill -HUP PID`). The log
   says `reloaded N rule group(s)`; if a file is invalid after all, it says
   `reload refused, keeping the running rules:` with the errors, and the
   rules that were running keep running. `switchman audit list` shows the
   outcome either way.

The same steps add an SLO file (`switchman slo check FILE`) or a drill file
to their globs.
"""


def render() -> str:
    return (
        HEAD
        + AGENT.format(table=table(AGENT_KEYS, {"labels": "label"}))
        + CONTROLLER.format(
            table=table(
                CONTROLLER_KEYS, {"rule_files": "rule_file", "slo_files": "slo_file", "drill_files": "drill_file"}
            )
        )
    )


def main() -> None:
    PAGE.write_text(render())


if __name__ == "__main__":
    main()
