"""``switchman backup FILE``: an online copy of the controller's database."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from switchman.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from switchman.cli.protos import ops_pb2
from switchman.cli.render import Output, human_bytes

if TYPE_CHECKING:
    from switchman.cli.client import Client


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup", help="copy the controller's database while it runs (admin); restore with switchman-controller restore"
    )
    p.add_argument("file", type=Path)
    p.set_defaults(func=backup)


def backup(args: argparse.Namespace, client: Client, out: Output) -> int:
    target: Path = args.file
    if target.exists():
        raise CliError(f"{target} exists; choose a new file", EXIT_USAGE)
    tmp = target.with_name(target.name + ".partial")
    size = 0
    with tmp.open("wb") as f:
        for chunk in client.stream(client.ops.Backup, ops_pb2.BackupRequest()):
            f.write(chunk.data)
            size += len(chunk.data)
        f.flush()
        os.fsync(f.fileno())
    tmp.rename(target)  # a backup file is complete or absent
    out.line(f"wrote {target} ({human_bytes(size)})") if out.fmt == "table" else out.document(
        {"file": str(target), "bytes": size}
    )
    return EXIT_OK
