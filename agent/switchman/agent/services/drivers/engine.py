"""A container engine's CLI (``docker`` or ``podman``; both take the same
arguments for what the drivers use): every call goes through a ``runner`` so
tests can drive the container driver at the command boundary, and every call
carries the service's global engine flags (``engine_args``)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from switchman.agent.services.errors import InvalidService

_NO_SUCH = re.compile(r"no such (object|container)", re.IGNORECASE)  # podman's and docker's words
Runner = Callable[[list[str], float], Awaitable[tuple[int, str, str]]]

# one line per container, the same template for both engines (docker's Name has a leading /)
INSPECT_FORMAT = (
    "{{.Id}}|{{.Name}}|{{.State.Status}}|{{.State.Pid}}|{{.RestartCount}}|{{.State.ExitCode}}|"
    "{{.State.StartedAt}}|{{json .Config.Labels}}"
)


async def run_command(argv: list[str], timeout: float) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, "", f"{argv[0]} {argv[1]} timed out after {timeout:g}s"
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


@dataclass(frozen=True)
class Container:
    """One container as the engine's ``inspect`` reports it."""

    id: str
    name: str
    status: str  # created | running | paused | restarting | exited | stopped | dead ...
    pid: int
    restarts: int  # the engine's own restarts (restart policy)
    exit_code: int
    started_at: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        """Running, or frozen by ``pause`` (it is still there and resumes)."""
        return self.status in ("running", "paused", "restarting")


def parse_inspect(out: str) -> list[Container]:
    """The lines ``inspect --format INSPECT_FORMAT`` prints; lines that do not parse are skipped."""
    found = []
    for line in out.splitlines():
        parts = line.strip().split("|", 7)
        if len(parts) != 8:
            continue
        cid, name, status, pid, restarts, code, started, labels = parts
        try:
            doc = json.loads(labels) if labels.strip() not in ("", "null") else {}
            found.append(
                Container(
                    cid,
                    name.lstrip("/"),
                    status,
                    int(pid or 0),
                    int(restarts or 0),
                    int(code or 0),
                    started,
                    {str(k): str(v) for k, v in (doc or {}).items()},
                )
            )
        except (ValueError, AttributeError):
            continue
    return found


def error_text(stderr: str) -> str:
    """What the engine said went wrong: its ``Error:`` lines (podman logs
    retries as warnings before them), else all it wrote; at most 400 characters."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "docker:"))]
    return " ".join(errors or lines)[:400]


class Engine:
    """The engine's CLI: ``COMMAND [ENGINE_ARGS] SUBCOMMAND ...``."""

    def __init__(self, command: str, runner: Runner = run_command) -> None:
        self.command = command
        self._run = runner

    def _check_installed(self) -> None:
        if self._run is run_command and shutil.which(self.command) is None:
            raise InvalidService(
                f"the {self.command} driver needs the `{self.command}` command, which is not installed"
            )

    async def cli(self, engine_args: tuple[str, ...], *args: str, timeout: float = 60.0) -> str:
        """:raises InvalidService: the command failed (its stderr in the message)."""
        self._check_installed()
        rc, out, err = await self._run([self.command, *engine_args, *args], timeout)
        if rc != 0:
            raise InvalidService(f"{self.command} {args[0]} failed: {error_text(err or out)}")
        return out

    async def inspect(self, engine_args: tuple[str, ...], refs: list[str]) -> list[Container]:
        """The containers among ``refs`` (names or ids) that exist; the missing are left out.

        :raises InvalidService: the engine failed otherwise (it is not there
            to say which exist: a caller must not take them for gone).
        """
        if not refs:
            return []
        self._check_installed()
        rc, out, err = await self._run([self.command, *engine_args, "inspect", "--format", INSPECT_FORMAT, *refs], 30.0)
        # an engine exits non-zero when one of refs is missing, and prints the others
        if rc != 0 and not _NO_SUCH.search(err):
            raise InvalidService(f"{self.command} inspect failed: {error_text(err or out)}")
        return parse_inspect(out)

    async def find(self, engine_args: tuple[str, ...], labels: Mapping[str, str]) -> list[Container]:
        """Every container (running or not) that carries all of ``labels``.

        :raises InvalidService: the engine cannot list its containers.
        """
        filters = [a for k, v in sorted(labels.items()) for a in ("--filter", f"label={k}={v}")]
        out = await self.cli(engine_args, "ps", "--all", "--quiet", "--no-trunc", *filters, timeout=30.0)
        return await self.inspect(engine_args, out.split())
