"""``switchman-agent``: the composition root of the agent."""

from __future__ import annotations

import argparse
import asyncio
import sys

from switchman.agent import __version__
from switchman.agent import config as config_mod
from switchman.agent.errors import AgentError
from switchman.proto.channel import TlsError
from switchman.proto.daemon import setup_logging
from switchman.proto.settings import ConfigError, add_flags, flag_values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchman-agent", description="Switchman per-host agent.")
    p.add_argument("--config", default=None, help=f"TOML config file (default {config_mod.DEFAULT_PATH} if present)")
    p.add_argument("--version", action="version", version=f"switchman-agent {__version__}")
    add_flags(p, config_mod.KEYS, {"labels": "label"})
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    flags = flag_values(args, config_mod.KEYS)
    try:
        cfg = config_mod.load(args.config, flags)
        setup_logging(cfg.log_level, cfg.log_format)
        from switchman.agent.daemon import AgentDaemon  # after config: keeps `--help` and errors fast

        daemon = AgentDaemon(cfg, reload_config=lambda: config_mod.load(args.config, flags))
    except (ConfigError, TlsError, AgentError) as exc:
        print(f"switchman-agent: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(daemon.run())
    except OSError as exc:
        print(f"switchman-agent: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
