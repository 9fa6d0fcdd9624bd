"""``switchman rules test FILE...`` (promtool's format and exit codes). Local: no controller needed."""

from __future__ import annotations

import argparse
from pathlib import Path

from switchman.cli.client import Client
from switchman.cli.errors import EXIT_FAILED, EXIT_OK
from switchman.cli.render import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rules", help="rule unit tests (promtool format); local, no controller needed")
    rsub = p.add_subparsers(dest="rules_cmd", required=True, metavar="test")
    t = rsub.add_parser("test", help="run promql_expr_test cases; exit 1 on any failure, as promtool")
    t.add_argument("files", nargs="+", type=Path)
    t.set_defaults(func=test, local=True)


def test(args: argparse.Namespace, client: Client | None, out: Output) -> int:
    from switchman.controller.promql.ruletest import run_file  # the evaluator ships with the controller

    failed = False
    for path in args.files:
        report = run_file(path)
        print(f"Unit Testing:  {path}")
        if report.ok:
            print("  SUCCESS\n")
            continue
        failed = True
        print("  FAILED:")
        for line in report.errors + report.failures:
            print(line)
        print()
    return EXIT_FAILED if failed else EXIT_OK
