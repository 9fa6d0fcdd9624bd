"""``switchman rules test FILE...`` (promtool's format and exit codes). Local: no controller needed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_FAILED, EXIT_OK
from switchman.cli.render import Output

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="rule unit tests (promtool format); local, no controller needed")
    rsub = p.add_subparsers(dest="rules_cmd", metavar="check|test")
    c = rsub.add_parser("check", help="validate Prometheus rule files; exit 1 with FILE:LINE:COL messages")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=check, local=True)
    t = rsub.add_parser("test", help="run promql_expr_test cases; exit 1 on any failure, as promtool")
    t.add_argument("files", nargs="+", type=Path)
    t.set_defaults(func=test, local=True)


def test(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.controller.promql.ruletest import run_file  # the evaluator ships with the controller

    failed = False
    for path in args.files:
        report = run_file(path)
        print(f"Unit Testing:  {path}", flush=True)
        if report.ok:
            print("  SUCCESS\n")
            continue
        failed = True
        # as promtool: the failures on stderr, a blank line on stdout for each
        print("  FAILED:", file=sys.stderr, flush=True)
        for line in report.errors + report.failures:
            print(line, file=sys.stderr, flush=True)
            print(flush=True)
        print(flush=True)
    return EXIT_FAILED if failed else EXIT_OK


def check(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.controller.alerts.rules import load_rule_file

    failed = False
    for path in args.files:
        result = load_rule_file(path)
        if result.errors:
            failed = True
            print(f"Checking {path}\n  FAILED:")
            for e in result.errors:
                print(f"{e}")
        else:
            n = sum(len(g.rules) for g in result.groups)
            print(f"Checking {path}\n  SUCCESS: {n} rules found")
    return EXIT_FAILED if failed else EXIT_OK
