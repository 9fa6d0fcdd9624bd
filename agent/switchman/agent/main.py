"""``switchman-agent``: the composition root of the agent."""

from __future__ import annotations

from switchman.agent.lazy_tls import import_asyncio

import_asyncio()  # before anything imports asyncio: OpenSSL stays out until an HTTPS target needs it

import argparse  # noqa: E402
import asyncio  # noqa: E402
import sys  # noqa: E402

from switchman.agent import __version__  # noqa: E402
from switchman.agent import config as config_mod  # noqa: E402
from switchman.agent.errors import AgentError  # noqa: E402
from switchman.proto.channel import TlsError  # noqa: E402
from switchman.proto.daemon import setup_logging  # noqa: E402
from switchman.proto.settings import ConfigError, add_flags, flag_values  # noqa: E402


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
