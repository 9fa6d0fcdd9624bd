"""Regenerate docs/configuration.md from the daemons' key tables:
``.venv/bin/python docs/gen_configuration.py``."""

from __future__ import annotations

from pathlib import Path

from switchman.agent.config import KEYS as AGENT_KEYS
from switchman.controller.config import KEYS as CONTROLLER_KEYS
from switchman.proto.durations import format_duration_ms
from switchman.proto.settings import Key


def table(keys: tuple[Key, ...], singular: dict[str, str]) -> str:
    rows = ["| key | flag | kind | default | meaning |", "|---|---|---|---|---|"]
    for k in keys:
        flag = "(table)" if k.kind == "tables" else "--" + singular.get(k.name, k.name).replace("_", "-")
        d: object = k.default
        if k.kind == "duration" and isinstance(d, float):
            d = format_duration_ms(int(d * 1000))
        if k.kind == "size" and isinstance(d, int):
            d = f"{d // 2**20}MiB"
        rows.append(f"| `{k.name}` | `{flag}` | {k.kind} | `{d!r}` | {k.help} |".replace("'", '"'))
    return "\n".join(rows)


HEAD = """# Configuration reference

Both daemons read a TOML file (`--config FILE`; by default
`/etc/switchman/agent.toml` or `/etc/switchman/controller.toml` when it
exists) and take a flag for every key; a flag wins over the file. Durations
are Prometheus-style (`500ms`, `10s`, `5m`, `1h30m`, `7d`); sizes take
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
applies `labels` (and `[[probe]]` tables, when probes arrive); an invalid file
is refused and the running configuration kept. With TLS the agent's gRPC port
requires a client certificate and answers only the controller's
(`switchman-controller`).
"""

CONTROLLER = """
## Controller (`switchman-controller`)

{table}

With TLS, `listen` requires a client certificate from the fleet CA (agents;
the certificate's name must equal the host id an agent claims), and
`ops_listen` serves only the Ops API to a CLI that holds just `ca.pem` and a
token. Without TLS (`--insecure`), everything is served on `listen`.
`switchman-controller migrate` applies pending schema migrations and exits.
`rule_files`, `slo_files`, `drill_files` and `notifiers` are accepted and
reserved for the alerting, SLO and chaos features; this version does not
load them.
"""


def main() -> None:
    text = (
        HEAD
        + AGENT.format(table=table(AGENT_KEYS, {"labels": "label"}))
        + CONTROLLER.format(
            table=table(
                CONTROLLER_KEYS, {"rule_files": "rule_file", "slo_files": "slo_file", "drill_files": "drill_file"}
            )
        )
    )
    (Path(__file__).resolve().parent / "configuration.md").write_text(text)


if __name__ == "__main__":
    main()
