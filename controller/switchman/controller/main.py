"""``switchman-controller``: the composition root of the controller."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from switchman.controller import __version__
from switchman.controller import config as config_mod
from switchman.proto.channel import TlsError
from switchman.proto.daemon import setup_logging
from switchman.proto.settings import ConfigError, add_flags, flag_values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchman-controller", description="Switchman central controller.")
    p.add_argument("--config", default=None, help=f"TOML config file (default {config_mod.DEFAULT_PATH} if present)")
    p.add_argument("--version", action="version", version=f"switchman-controller {__version__}")
    add_flags(p, config_mod.KEYS, {"rule_files": "rule_file", "slo_files": "slo_file", "drill_files": "drill_file"})
    p.add_argument(
        "command",
        nargs="?",
        choices=["run", "migrate", "restore"],
        default="run",
        help="run (default); migrate: apply pending schema migrations and exit; restore FILE: put a backup in place",
    )
    p.add_argument("file", nargs="?", help="restore: the backup file (from `switchman backup FILE`)")
    p.add_argument("--force", action="store_true", help="restore: replace an existing database (controller stopped)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        flags = flag_values(args, config_mod.KEYS)
        cfg = config_mod.load(args.config, flags)
        setup_logging(cfg.log_level, cfg.log_format)
        if args.command == "restore":
            from switchman.controller.store.backup import BackupError, restore

            if not args.file:
                print("switchman-controller: restore needs the backup FILE", file=sys.stderr)
                return 2
            try:
                restore(Path(args.file), cfg.data_dir, args.force)
            except (BackupError, OSError) as exc:
                print(f"switchman-controller: {exc}", file=sys.stderr)
                return 1
            print(f"restored {args.file} into {cfg.data_dir / 'controller.db'}; start the controller")
            return 0
        if args.command == "migrate":
            from switchman.controller.store.db import Database, DatabaseDamaged, migrate

            try:
                applied = migrate(Database(cfg.data_dir / "controller.db").open_writer())
            except DatabaseDamaged as exc:
                print(f"switchman-controller: {exc}", file=sys.stderr)
                return 1
            print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
            return 0
        from switchman.controller.daemon import ControllerDaemon, RuleFileError

        daemon = ControllerDaemon(cfg, reread=lambda: config_mod.load(args.config, flags))
    except (ConfigError, TlsError) as exc:
        print(f"switchman-controller: {exc}", file=sys.stderr)
        return 2
    from switchman.controller.store.db import DatabaseDamaged

    try:
        return asyncio.run(daemon.run())
    except (OSError, RuleFileError, DatabaseDamaged) as exc:
        print(f"switchman-controller: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
