"""Rollouts in SQLite: one row per rollout holding its JSON document,
rewritten (in the writer's transaction) after every transition."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from switchman.controller.rollouts.model import Rollout
from switchman.controller.store import Writer


class RolloutStore:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def create(self, make: Callable[[int], Rollout]) -> Rollout:
        """Allocates the id and stores the first version, in one transaction."""

        def job(conn: sqlite3.Connection) -> Rollout:
            rid = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM rollouts").fetchone()[0])
            r = make(rid)
            conn.execute(
                "INSERT INTO rollouts (id, service, state, doc, created_ms, updated_ms) VALUES (?,?,?,?,?,?)",
                (r.id, r.service, r.state.value, r.to_json(), r.created_ms, r.updated_ms),
            )
            return r

        return await self._writer.run(job)

    async def save(self, r: Rollout) -> None:
        doc, state = r.to_json(), r.state.value
        await self._writer.run(
            lambda c: c.execute(
                "UPDATE rollouts SET state = ?, doc = ?, updated_ms = ? WHERE id = ?", (state, doc, r.updated_ms, r.id)
            )
        )

    @staticmethod
    def load(conn: sqlite3.Connection, rollout_id: int) -> Rollout | None:
        row = conn.execute("SELECT doc FROM rollouts WHERE id = ?", (rollout_id,)).fetchone()
        return Rollout.from_json(row[0]) if row else None

    @staticmethod
    def query(conn: sqlite3.Connection, service: str = "", limit: int = 50) -> list[Rollout]:
        sql = "SELECT doc FROM rollouts" + (" WHERE service = ?" if service else "") + " ORDER BY id DESC LIMIT ?"
        args: tuple[object, ...] = (service, limit) if service else (limit,)
        return [Rollout.from_json(d) for (d,) in conn.execute(sql, args)]

    @staticmethod
    def unfinished(conn: sqlite3.Connection) -> list[Rollout]:
        terminal = ("succeeded", "failed", "rolled_back", "aborted")
        rows = conn.execute(f"SELECT doc FROM rollouts WHERE state NOT IN ({','.join('?' * len(terminal))})", terminal)
        return [Rollout.from_json(d) for (d,) in rows]
