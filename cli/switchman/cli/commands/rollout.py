"""``switchman rollout start|status|list|history|promote|abort|pause|resume|rollback``."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from switchman.cli.commands.fleet import parse_selector
from switchman.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, bar, esc, iso, message_doc, when
from switchman.proto.durations import parse_duration_ms

if TYPE_CHECKING:
    from switchman.cli.client import Client

DONE_OK = "succeeded"
TERMINAL = {"succeeded", "failed", "rolled_back", "aborted"}
COLOUR = {"healthy": "green", "failed": "red", "rollback_failed": "red", "rolled_back": "yellow", "skipped": "dim"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rollout", help="roll a service to a new version across its hosts")
    s = p.add_subparsers(dest="rollout_cmd", metavar="start|status|list|history|promote|abort|pause|resume|rollback")
    st = s.add_parser("start", help="start a rollout: switchman rollout start hello --version 2")
    st.add_argument("service")
    st.add_argument("--version", required=True)
    st.add_argument("--strategy", choices=["blue-green", "canary"], default="blue-green")
    st.add_argument("--selector", action="append", default=[], metavar="K=V", help="default: the service's selector")
    st.add_argument("--max-parallel", type=int, default=1, help="hosts switched at once (default 1)")
    st.add_argument("--canary", type=int, default=-1, help="hosts switched and baked first (default 1 for canary)")
    st.add_argument("--min-healthy", default="10s", help="each switched host must stay healthy this long")
    st.add_argument("--healthy-deadline", default="2m")
    st.add_argument("--progress-deadline", default="10m")
    st.add_argument(
        "--bake", default="", help="analysis window after the canary and each batch (default 30s with a canary)"
    )
    st.add_argument("--analysis", action="append", default=[], metavar="EXPR|ALERT", help="must stay false / not fire")
    st.add_argument(
        "--steps", default="", metavar="W,W,...", help="weighted steps: the new version's share on each host (5,25,100)"
    )
    st.add_argument("--max-error-rate", default="", metavar="P%", help="per step: the new slot's 5xx share at most P")
    st.add_argument(
        "--max-latency-regression",
        default="",
        metavar="P%",
        help="per step: the new slot's p99 at most P above the old",
    )
    st.add_argument(
        "--min-requests", type=int, default=0, metavar="N", help="per step: fewer on the new slot is inconclusive (50)"
    )
    mode = st.add_mutually_exclusive_group()
    mode.add_argument("--auto-promote", dest="manual", action="store_false", help="continue after the canary (default)")
    mode.add_argument("--manual", dest="manual", action="store_true", help="pause after the canary until promoted")
    rb = st.add_mutually_exclusive_group()
    rb.add_argument("--auto-rollback", dest="auto_rollback", action="store_true", default=True, help="(default)")
    rb.add_argument("--no-auto-rollback", dest="auto_rollback", action="store_false")
    st.add_argument("--require-all", action="store_true", help="refuse to start while a matching host is down")
    st.add_argument("--force", action="store_true", help="start even while a chaos drill targets the service")
    st.add_argument("--watch", action="store_true", help="then stream progress like `rollout status --watch`")
    st.set_defaults(func=start, manual=False)
    ss = s.add_parser("status", help="a rollout's hosts, batches and analysis")
    ss.add_argument("id", type=int)
    ss.add_argument("--watch", action="store_true", help="stream until it ends; exit 0 on success, 1 otherwise")
    ss.set_defaults(func=status)
    ls = s.add_parser("list", help="recent rollouts")
    ls.add_argument("--service", default="")
    ls.add_argument("--active", action="store_true")
    ls.set_defaults(func=list_rollouts)
    hi = s.add_parser("history", help="a service's rollouts, newest first")
    hi.add_argument("service")
    hi.set_defaults(func=history)
    for name, what in (
        ("promote", "continue after the canary"),
        ("abort", "stop and roll back"),
        ("pause", "stop starting hosts"),
        ("resume", "continue a paused rollout"),
    ):
        c = s.add_parser(name, help=what)
        c.add_argument("id", type=int)
        if name == "abort":
            c.add_argument("--reason", default="")
        c.set_defaults(func=command, action=name)
    back = s.add_parser("rollback", help="back to the previous version on every host of the last successful rollout")
    back.add_argument("service")
    back.add_argument("--watch", action="store_true")
    back.set_defaults(func=rollback)


def _ms(text: str, flag: str) -> int:
    try:
        return parse_duration_ms(text)
    except ValueError as exc:
        raise CliError(f"{flag}: {exc}", EXIT_USAGE) from None


def _share(text: str, flag: str) -> float | None:
    """``1%`` or ``0.01``; "" for not given."""
    if not text:
        return None
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CliError(f"{flag}: {text!r} is not a share (1% or 0.01)", EXIT_USAGE) from None
    if not value >= 0:
        raise CliError(f"{flag}: {text!r} is below 0", EXIT_USAGE)
    return value


def _steps(text: str) -> list[int]:
    try:
        return [int(w) for w in text.split(",")] if text else []
    except ValueError:
        raise CliError(f"--steps: {text!r} is not a list of weights (5,25,50,100)", EXIT_USAGE) from None


def start(args: argparse.Namespace, client: Client, out: Output) -> int:
    if args.min_requests < 0:
        raise CliError("--min-requests: must be at least 1", EXIT_USAGE)
    options = ops_pb2.RolloutOptions(
        strategy=args.strategy,
        selector=parse_selector(args.selector),
        max_parallel=args.max_parallel,
        canary=args.canary,
        min_healthy_ms=_ms(args.min_healthy, "--min-healthy"),
        healthy_deadline_ms=_ms(args.healthy_deadline, "--healthy-deadline"),
        progress_deadline_ms=_ms(args.progress_deadline, "--progress-deadline"),
        bake_ms=_ms(args.bake, "--bake") if args.bake else -1,
        analysis=args.analysis,
        manual=args.manual,
        auto_rollback=args.auto_rollback,
        require_all=args.require_all,
        force=args.force,
        steps=_steps(args.steps),
        max_error_rate=_share(args.max_error_rate, "--max-error-rate"),
        max_latency_regression=_share(args.max_latency_regression, "--max-latency-regression"),
        min_requests=args.min_requests,
    )
    if args.max_parallel < 1:
        raise CliError("--max-parallel: must be at least 1", EXIT_USAGE)
    r = client.call(
        client.ops.StartRollout,
        ops_pb2.StartRolloutRequest(service=args.service, version=args.version, options=options),
    )
    if args.watch:
        return watch(r.id, client, out)
    out.line(
        f"rollout {r.id} started: {r.service} to {r.version} on {sum(h.state != 'skipped' for h in r.hosts)} host(s)"
    ) if out.fmt == "table" else out.document(doc(r))
    return EXIT_OK


def doc(r: ops_pb2.Rollout) -> dict[str, Any]:
    return {
        "id": r.id,
        "service": r.service,
        "version": r.version,
        "from_version": r.from_version,
        "state": r.state,
        "message": r.message,
        "batches": r.batches,
        "current_batch": min(r.current_batch + 1, r.batches),  # counted from 1, as in the table
        "strategy": r.options.strategy,
        "created": iso(r.created_at_ms),
        "finished": when(r.finished_at_ms),
        "created_by": r.created_by,
        "hosts": [
            {
                "host": h.host_id,
                "batch": None if h.state == "skipped" else h.batch + 1,
                "state": h.state,
                "from_version": h.from_version,
                "message": h.message,
                **({"weight": h.weight} if r.options.steps else {}),
            }
            for h in r.hosts
        ],
        "analysis": [message_doc(a, drop=_dropped(r)) for a in r.analysis],
        **(_steps_doc(r) if r.options.steps else {}),
    }


CANARY_FIELDS = {"threshold", "baseline", "requests", "detail"}


def _dropped(r: ops_pb2.Rollout) -> set[str]:
    """Analysis fields left out of the document: the canary checks' without weighted steps."""
    return {"evaluated_at_ms"} | (set() if r.options.steps else CANARY_FIELDS)


def _steps_doc(r: ops_pb2.Rollout) -> dict[str, Any]:
    o = r.options
    return {
        "steps": list(o.steps),
        "step": {"index": r.step + 1, "weight": o.steps[min(r.step, len(o.steps) - 1)]} if _stepped(r) else None,
        "canary": {
            "max_error_rate": o.max_error_rate if o.HasField("max_error_rate") else None,
            "max_latency_regression": o.max_latency_regression if o.HasField("max_latency_regression") else None,
            "min_requests": o.min_requests,
        },
        "step_verdicts": [
            {
                "batch": s.batch + 1,
                "step": s.index + 1,
                "weight": s.weight,
                "verdict": s.verdict,
                "started": iso(s.started_at_ms),
                "ended": iso(s.ended_at_ms),
                "analysis": [message_doc(a, drop={"evaluated_at_ms"}) for a in s.analysis],
            }
            for s in r.steps
        ],
    }


def _stepped(r: ops_pb2.Rollout) -> bool:
    """The current batch takes weighted steps (with a canary, only the canary batch does)."""
    return bool(r.options.steps) and (r.options.canary == 0 or r.current_batch == 0)


def _host_cell(h: ops_pb2.RolloutHost) -> str:
    colour = COLOUR.get(h.state, "cyan")
    weight = f" {h.weight}%" if h.state in ("weighting", "weighted") else ""
    return f"[{colour}]{h.host_id}:{h.state}{weight}[/{colour}]"


def _verdict_line(a: ops_pb2.AnalysisValue) -> str:
    return f"{a.name}: {a.verdict} ({esc(a.detail) or f'{a.value:g}'})"


def lines(r: ops_pb2.Rollout) -> list[str]:
    live = [h for h in r.hosts if h.state != "skipped"]
    done = sum(h.state == "healthy" for h in live)
    steps = list(r.options.steps) if _stepped(r) else []
    where = f"  step {r.step + 1}/{len(steps)} ({steps[min(r.step, len(steps) - 1)]}%)" if steps else ""
    out = [
        f"[bold]rollout {r.id}[/bold] {r.service} {r.from_version or '?'} → {r.version}  [bold]{r.state}[/bold]  "
        f"batch {min(r.current_batch + 1, r.batches)}/{r.batches}{where}  "
        f"{bar(done / max(len(live), 1), 20)} {done}/{len(live)}"
    ]
    if r.message:
        out.append(f"  {esc(r.message)}")
    for b in range(r.batches):
        hosts = [h for h in live if h.batch == b]
        cells = " ".join(_host_cell(h) for h in hosts)
        healthy = sum(h.state == "healthy" for h in hosts)
        out.append(f"  batch {b + 1}: {bar(healthy / max(len(hosts), 1), 10)} {cells}")
    out += [f"  [dim]{h.host_id}: skipped ({esc(h.message)})[/dim]" for h in r.hosts if h.state == "skipped"]
    for st in r.steps:
        out.append(f"  step {st.index + 1} ({st.weight}%), batch {st.batch + 1}: {st.verdict}")
        out += [f"    {_verdict_line(a)}" for a in st.analysis if a.detail]
    out += [f"  analysis {_verdict_line(a)}" for a in r.analysis]
    return out


def render(r: ops_pb2.Rollout, out: Output) -> None:
    for line in lines(r):
        out.line(line)


def status(args: argparse.Namespace, client: Client, out: Output) -> int:
    if args.watch:
        return watch(args.id, client, out)
    r = client.call(client.ops.GetRollout, ops_pb2.GetRolloutRequest(id=args.id))
    out.document(doc(r)) if out.fmt != "table" else render(r, out)
    return EXIT_OK


def watch(rollout_id: int, client: Client, out: Output) -> int:
    """Redrawn in place on a terminal; one block per change on a pipe (logs, CI)."""
    from rich.live import Live
    from rich.text import Text

    last: ops_pb2.Rollout | None = None
    shown = ""
    updates = client.stream(client.ops.WatchRollout, ops_pb2.GetRolloutRequest(id=rollout_id))
    live = Live(console=out.console, refresh_per_second=4) if out.fmt == "table" and out.console.is_terminal else None
    with live or nullcontext():
        for r in updates:
            last = r
            key = (
                r.state
                + r.message
                + ",".join(f"{h.state}{h.weight}" for h in r.hosts)
                + ",".join(a.verdict + a.detail for a in r.analysis)
            )
            if key == shown:
                continue
            shown = key
            if live is not None:
                live.update(Text.from_markup("\n".join(lines(r))))
            elif out.fmt != "table":
                out.document(doc(r))
            else:
                render(r, out)
    if last is None:
        raise CliError(f"rollout {rollout_id}: the stream ended without a state", EXIT_FAILED)
    return EXIT_OK if last.state == DONE_OK else EXIT_FAILED


def _rows(rollouts: list[ops_pb2.Rollout]) -> list[list[str]]:
    return [
        [
            str(r.id),
            r.service,
            f"{r.from_version or '?'} → {r.version}",
            r.state,
            r.options.strategy,
            iso(r.created_at_ms),
            r.message[:60],
        ]
        for r in rollouts
    ]


def list_rollouts(args: argparse.Namespace, client: Client, out: Output) -> int:
    resp = client.call(
        client.ops.ListRollouts, ops_pb2.ListRolloutsRequest(service=args.service, active_only=args.active)
    )
    if out.fmt != "table":
        out.document([doc(r) for r in resp.rollouts])
    else:
        out.table(["ID", "SERVICE", "VERSION", "STATE", "STRATEGY", "STARTED", "MESSAGE"], _rows(list(resp.rollouts)))
    return EXIT_OK


def history(args: argparse.Namespace, client: Client, out: Output) -> int:
    args.service, args.active = args.service, False
    return list_rollouts(args, client, out)


def command(args: argparse.Namespace, client: Client, out: Output) -> int:
    method = {
        "promote": client.ops.PromoteRollout,
        "abort": client.ops.AbortRollout,
        "pause": client.ops.PauseRollout,
        "resume": client.ops.ResumeRollout,
    }[args.action]
    r = client.call(method, ops_pb2.RolloutActionRequest(id=args.id, reason=getattr(args, "reason", "")))
    out.line(f"rollout {r.id}: {r.state} ({esc(r.message)})") if out.fmt == "table" else out.document(doc(r))
    return EXIT_OK


def rollback(args: argparse.Namespace, client: Client, out: Output) -> int:
    r = client.call(client.ops.RollbackService, ops_pb2.RollbackServiceRequest(service=args.service))
    if args.watch:
        return watch(r.id, client, out)
    out.line(f"rollout {r.id} started: {r.service} back to {r.version}") if out.fmt == "table" else out.document(doc(r))
    return EXIT_OK
