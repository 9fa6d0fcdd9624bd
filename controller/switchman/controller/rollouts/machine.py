"""The rollout state machine. Pure: it reads and changes a :class:`Rollout`
given the time and what the executor observed, and returns the switches to
make. The executor persists the document after every call and before it
acts on what the call returned, so a crash repeats at most an idempotent
"converge this host to version V" (ADR 0009).

Forward: batch 0 (the canary, if any), then batches of ``max_parallel``
hosts. A host is switched, then must stay healthy for ``min_healthy``; when
the whole batch is healthy the batch bakes (analysis) for ``bake``; after
the canary a ``--manual`` rollout pauses until promoted. A failed host, a
failed analysis or a missed deadline fails the rollout; with auto-rollback
every host whose switch was issued is converged back to its previous
version, one at a time, in reverse order."""

from __future__ import annotations

from dataclasses import dataclass

from switchman.controller.rollouts.model import HostState, HostStep, Pause, Rollout, RolloutState, Verdict

UNHEALTHY_CHECKS = 2  # consecutive failed health checks that fail a verifying host


@dataclass(frozen=True)
class Converge:
    """Make ``host_id`` serve ``version`` (a no-op if it already does)."""

    host_id: str
    version: str


class TransitionError(ValueError):
    """A command that does not apply to the rollout's current state."""


def _log(h: HostStep, state: HostState, message: str, now: int) -> None:
    h.state, h.message, h.updated_ms = state, message, now


class Machine:
    def __init__(self, rollout: Rollout) -> None:
        self.r = rollout

    # questions the executor asks ---------------------------------------------
    def verifying(self) -> list[HostStep]:
        return [h for h in self.r.hosts if h.state is HostState.VERIFYING]

    def in_flight(self) -> list[Converge]:
        """Switches or rollbacks issued but not known to be done: on a resume
        after a crash they are issued again (converging is idempotent)."""
        out = []
        for h in self.r.hosts:
            if h.state is HostState.SWITCHING:
                out.append(Converge(h.host_id, self.r.version))
            elif h.state is HostState.ROLLING_BACK and (h.from_version or h.from_recorded):
                out.append(Converge(h.host_id, h.from_version))
        return out

    def record_from(self, host_id: str, version: str) -> bool:
        """What a host served before it is asked to switch (read from the
        agent; ``""``: nothing), recorded before anything is sent. Recorded
        once: a retried switch after a crash sees the new version live and
        must not overwrite it. Returns whether the host is still to be
        changed: False once the rollout moved on (the host missed its
        deadline, the rollout is rolling back), and then nothing is sent."""
        h = self.r.host(host_id)
        if h.state is HostState.SWITCHING:
            if not h.from_recorded:
                h.from_version, h.from_recorded = version, True
            return True
        return h.state is HostState.ROLLING_BACK

    def baking(self) -> bool:
        return self.r.state is RolloutState.BAKING

    # time -------------------------------------------------------------------
    def tick(self, now: int) -> list[Converge]:
        r = self.r
        if r.terminal:
            return []
        if r.state in (RolloutState.RUNNING, RolloutState.BAKING):
            self._check_deadlines(now)  # baking is a chosen wait: it does not count against progress
        if r.state is RolloutState.RUNNING:
            return self._advance(now)
        if r.state is RolloutState.BAKING and now >= r.bake_until_ms:
            inconclusive = [v.name for v in r.analysis if v.verdict == "inconclusive"]
            if inconclusive:
                self._pause(Pause.INCONCLUSIVE, f"analysis inconclusive (no data): {', '.join(inconclusive)}", now)
            else:
                self._batch_done(now)
                return self._advance(now) if self._running() else []
        if r.state is RolloutState.ROLLING_BACK:
            return self._roll_back_next(now)
        return []

    def _check_deadlines(self, now: int) -> None:
        r, o = self.r, self.r.options
        for h in r.hosts:
            if h.state in (HostState.SWITCHING, HostState.VERIFYING) and now - h.started_ms > o.healthy_deadline_ms:
                _log(h, HostState.FAILED, f"not healthy within the healthy deadline ({o.healthy_deadline_ms} ms)", now)
                self.fail(f"host {h.host_id} missed its healthy deadline", now)
                return
        if r.state is RolloutState.RUNNING and now - r.last_progress_ms > o.progress_deadline_ms:
            self.fail(f"no progress within the progress deadline ({o.progress_deadline_ms} ms)", now)

    def _running(self) -> bool:
        return self.r.state is RolloutState.RUNNING

    def _batch(self) -> list[HostStep]:
        return [h for h in self.r.hosts if h.batch == self.r.current_batch and h.state is not HostState.SKIPPED]

    def _advance(self, now: int) -> list[Converge]:
        r = self.r
        batch = self._batch()
        if any(h.state is HostState.FAILED for h in batch):
            return []  # fail() was called when it failed
        if all(h.state is HostState.HEALTHY for h in batch):
            if r.options.bake_ms > 0 and batch:
                r.state, r.bake_until_ms, r.analysis = RolloutState.BAKING, now + r.options.bake_ms, []
                r.message = f"baking batch {r.current_batch + 1}/{r.batches}"
                return []
            self._batch_done(now)
            return self._advance(now) if self._running() else []
        out = []
        issued = max((h.order for h in r.hosts), default=0)
        for h in batch:
            if h.state is HostState.PENDING:
                issued += 1
                h.order, h.started_ms = issued, now
                _log(h, HostState.SWITCHING, f"switching to {r.version}", now)
                out.append(Converge(h.host_id, r.version))
        if out:
            r.message = f"batch {r.current_batch + 1}/{r.batches}: switching {', '.join(c.host_id for c in out)}"
        return out

    def _batch_done(self, now: int) -> None:
        r = self.r
        r.last_progress_ms = now
        if r.current_batch + 1 >= r.batches:
            self._finish(RolloutState.SUCCEEDED, f"{r.version} is live on every host", now)
            return
        canary_done = r.current_batch == 0 and r.options.canary > 0
        r.current_batch += 1
        r.state = RolloutState.RUNNING
        if canary_done and r.options.manual:
            self._pause(Pause.PROMOTE, "canary healthy: waiting for `switchman rollout promote`", now)

    def _pause(self, why: Pause, message: str, now: int) -> None:
        r = self.r
        r.paused_from = r.state.value if r.state is not RolloutState.PAUSED else r.paused_from
        r.state, r.pause, r.message, r.updated_ms = RolloutState.PAUSED, why, message, now

    def _finish(self, state: RolloutState, message: str, now: int) -> None:
        r = self.r
        r.state, r.message, r.finished_ms, r.pause = state, message, now, Pause.NONE

    # observations -----------------------------------------------------------
    def on_converged(
        self, host_id: str, ok: bool, message: str, from_version: str, active_slot: str, now: int, touched: bool = True
    ) -> None:
        """``touched`` False: the agent was never asked to switch (it could
        not even be asked for its state), so the host needs no rollback."""
        r = self.r
        h = r.host(host_id)
        if h.state is HostState.SWITCHING:
            if touched and not h.from_recorded:
                h.from_version, h.from_recorded = from_version, True
            if ok:
                h.switched_ms, h.healthy_since_ms, h.active_slot, h.bad_checks = now, now, active_slot, 0
                _log(h, HostState.VERIFYING, message, now)
            else:
                _log(h, HostState.FAILED, message, now)
                if not touched:
                    h.order = 0
                if r.state is not RolloutState.ROLLING_BACK:
                    self.fail(f"host {host_id}: {message}", now)
        elif h.state is HostState.ROLLING_BACK:
            _log(h, HostState.ROLLED_BACK if ok else HostState.ROLLBACK_FAILED, message, now)

    def on_health(self, host_id: str, healthy: bool, detail: str, now: int) -> None:
        r = self.r
        h = r.host(host_id)
        if h.state is not HostState.VERIFYING:
            return
        if healthy:
            h.bad_checks = 0
            if now - h.healthy_since_ms >= r.options.min_healthy_ms:
                _log(h, HostState.HEALTHY, f"{r.version} healthy for {r.options.min_healthy_ms} ms", now)
                r.last_progress_ms = now
            return
        h.bad_checks += 1
        h.healthy_since_ms = now  # the streak starts over
        if h.bad_checks >= UNHEALTHY_CHECKS:
            _log(h, HostState.FAILED, f"unhealthy after the switch: {detail}", now)
            if r.state is not RolloutState.ROLLING_BACK:
                self.fail(f"host {host_id} unhealthy after the switch: {detail}", now)

    def on_analysis(self, verdicts: list[Verdict], now: int) -> None:
        r = self.r
        if r.state is not RolloutState.BAKING:
            return
        r.analysis = verdicts
        failed = [v for v in verdicts if v.verdict == "fail"]
        if failed:
            self.fail("analysis failed: " + "; ".join(f"{v.name} = {v.value:g}" for v in failed), now)

    # failure and rollback ---------------------------------------------------
    def fail(self, reason: str, now: int, final: RolloutState = RolloutState.ROLLED_BACK) -> None:
        r = self.r
        r.updated_ms = now
        if not r.options.auto_rollback or not any(h.order for h in r.hosts):
            done = RolloutState.ABORTED if final is RolloutState.ABORTED else RolloutState.FAILED
            self._finish(done, reason, now)
            return
        r.state, r.final_state, r.message, r.pause = RolloutState.ROLLING_BACK, final.value, reason, Pause.NONE

    def _roll_back_next(self, now: int) -> list[Converge]:
        r = self.r
        if any(h.state in (HostState.SWITCHING, HostState.ROLLING_BACK) for h in r.hosts):
            return []  # one at a time; an in-flight switch finishes first
        # a host was asked to switch only after what it served was recorded: without it, nothing was sent
        todo = [
            h
            for h in r.hosts
            if h.order
            and (h.from_recorded or h.from_version)
            and h.state in (HostState.VERIFYING, HostState.HEALTHY, HostState.FAILED)
        ]
        if not todo:
            failed = [h for h in r.hosts if h.state is HostState.ROLLBACK_FAILED]
            if failed:  # rolled_back promises every switched host is back: say which are not
                what = "; ".join(f"{h.host_id}: {h.message}" for h in failed)
                self._finish(RolloutState.FAILED, f"{r.message}; could not roll back {what}", now)
            else:
                self._finish(RolloutState(r.final_state or "rolled_back"), r.message, now)
            return []
        h = max(todo, key=lambda x: x.order)  # reverse order of switching
        target = h.from_version or "nothing (it ran no version before: stopping the service)"
        _log(h, HostState.ROLLING_BACK, f"rolling back to {target}", now)
        return [Converge(h.host_id, h.from_version)]

    # operator commands ------------------------------------------------------
    def promote(self, now: int) -> None:
        r = self.r
        if r.state is not RolloutState.PAUSED or r.pause not in (Pause.PROMOTE, Pause.INCONCLUSIVE):
            raise TransitionError(
                f"rollout {r.id} is {self.describe()}: only a rollout waiting for promotion can be promoted"
            )
        was_baking = r.pause is Pause.INCONCLUSIVE
        r.pause, r.state, r.last_progress_ms, r.message = Pause.NONE, RolloutState.RUNNING, now, "promoted"
        if was_baking:
            self._batch_done(now)

    def pause(self, now: int) -> None:
        r = self.r
        if r.state not in (RolloutState.RUNNING, RolloutState.BAKING):
            raise TransitionError(f"rollout {r.id} is {self.describe()}: only a running rollout can be paused")
        self._pause(Pause.OPERATOR, "paused by an operator", now)

    def resume(self, now: int) -> None:
        r = self.r
        if r.state is not RolloutState.PAUSED or r.pause is not Pause.OPERATOR:
            raise TransitionError(f"rollout {r.id} is {self.describe()}: only a paused rollout can be resumed")
        r.state = RolloutState(r.paused_from or "running")
        if r.state is RolloutState.BAKING:
            r.bake_until_ms = now + r.options.bake_ms  # the bake window starts over
        r.pause, r.last_progress_ms, r.message = Pause.NONE, now, "resumed"

    def abort(self, reason: str, now: int) -> None:
        r = self.r
        if r.terminal or r.state is RolloutState.ROLLING_BACK:
            raise TransitionError(f"rollout {r.id} is {self.describe()}: nothing to abort")
        self.fail(f"aborted: {reason}" if reason else "aborted by an operator", now, RolloutState.ABORTED)

    def describe(self) -> str:
        r = self.r
        return f"{r.state.value} ({r.pause.value})" if r.pause is not Pause.NONE else r.state.value
