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
version, one at a time, in reverse order.

Weighted steps (``--steps``, ADR 0022): a batch's hosts (with a canary, the
canary's only) move through the weights together: each host is asked for
the step's weight, and when every host confirmed it the batch bakes; the
canary checks are judged over the whole bake window when it ends. A pass
moves to the next weight, the last (100) being the flip, after which a host
verifies like a switched one; inconclusive pauses; a fail rolls back, every
host still weighted at once (its weight back to 0), then the flipped ones in
reverse order."""

from __future__ import annotations

from dataclasses import dataclass

from switchman.controller.rollouts.model import (
    HostState,
    HostStep,
    Pause,
    Rollout,
    RolloutState,
    StepResult,
    Verdict,
)

UNHEALTHY_CHECKS = 2  # consecutive failed health checks that fail a verifying host


@dataclass(frozen=True)
class Converge:
    """Make ``host_id`` serve ``version`` (a no-op if it already does)."""

    host_id: str
    version: str


@dataclass(frozen=True)
class Weigh:
    """Give ``version`` ``weight`` % of ``host_id``'s requests (started first if need be; 100: the flip)."""

    host_id: str
    version: str
    weight: int


Action = Converge | Weigh


class TransitionError(ValueError):
    """A command that does not apply to the rollout's current state."""


def _log(h: HostStep, state: HostState, message: str, now: int) -> None:
    h.state, h.message, h.updated_ms = state, message, now


class Machine:
    def __init__(self, rollout: Rollout) -> None:
        self.r = rollout

    # questions the executor asks ---------------------------------------------
    def verifying(self) -> list[HostStep]:
        """Hosts whose new version is checked once a second: switched, or weighted."""
        return [h for h in self.r.hosts if h.state in (HostState.VERIFYING, HostState.WEIGHTED)]

    def in_flight(self) -> list[Action]:
        """Switches, steps or rollbacks issued but not known to be done: on a
        resume after a crash they are issued again (each is idempotent)."""
        out: list[Action] = []
        for h in self.r.hosts:
            if h.state is HostState.SWITCHING:
                out.append(Converge(h.host_id, self.r.version))
            elif h.state is HostState.WEIGHTING:
                out.append(Weigh(h.host_id, self.r.version, self.r.options.steps[self.r.step]))
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
        if h.state in (HostState.SWITCHING, HostState.WEIGHTING):
            if not h.from_recorded:
                h.from_version, h.from_recorded = version, True
            return True
        return h.state is HostState.ROLLING_BACK

    def resumed(self, now: int) -> None:
        """After a controller restart: a bake window it was not there to watch
        (the agents' samples of it may still be on their way) starts over."""
        r = self.r
        if r.state is RolloutState.BAKING:
            r.bake_started_ms, r.bake_until_ms, r.analysis = now, now + r.options.bake_ms, []
            r.message = f"{r.message} (the bake starts over after a restart)"

    def baking(self) -> bool:
        return self.r.state is RolloutState.BAKING

    # time -------------------------------------------------------------------
    def stepped(self) -> bool:
        """The current batch moves through weighted steps (with a canary: only the canary batch)."""
        o = self.r.options
        return bool(o.steps) and (o.canary == 0 or self.r.current_batch == 0)

    def weight(self) -> int:
        """The current step's weight (100 outside weighted steps)."""
        return self.r.options.steps[self.r.step] if self.stepped() else 100

    def canary_checks(self) -> bool:
        o = self.r.options
        return self.stepped() and (o.max_error_rate >= 0 or o.max_latency_regression >= 0)

    def analysis_due(self, now: int, last: int, every_ms: int) -> bool:
        """Analysis runs every ``every_ms`` while baking, and once more when the window has ended."""
        if not self.baking():
            return False
        return now - last >= every_ms or (now >= self.r.bake_until_ms and self._awaiting_final())

    def _awaiting_final(self) -> bool:
        """The canary checks are judged on the whole window: a verdict from after its end is needed."""
        r = self.r
        return self.canary_checks() and not any(v.at_ms >= r.bake_until_ms for v in r.analysis)

    # time -------------------------------------------------------------------
    def tick(self, now: int) -> list[Action]:
        r = self.r
        if r.terminal:
            return []
        if r.state in (RolloutState.RUNNING, RolloutState.BAKING):
            self._check_deadlines(now)  # baking is a chosen wait: it does not count against progress
        if r.state is RolloutState.RUNNING:
            return self._advance(now)
        if r.state is RolloutState.BAKING and now >= r.bake_until_ms and not self._awaiting_final():
            inconclusive = [v.name for v in r.analysis if v.verdict == "inconclusive"]
            if self.stepped():
                self._record_step("inconclusive" if inconclusive else "pass", now)
            if inconclusive:
                why = "; ".join(v.detail or f"{v.name} (no data)" for v in r.analysis if v.verdict == "inconclusive")
                self._pause(Pause.INCONCLUSIVE, f"analysis inconclusive: {why}", now)
            else:
                self._bake_done(now)
                return self._advance(now) if self._running() else []
        if r.state is RolloutState.ROLLING_BACK:
            return self._roll_back_next(now)
        return []

    def _bake_done(self, now: int) -> None:
        """The next weighted step, or the next batch."""
        r = self.r
        if self.stepped() and r.step + 1 < len(r.options.steps):
            r.step += 1
            r.state, r.last_progress_ms = RolloutState.RUNNING, now
            return
        self._batch_done(now)

    def _record_step(self, verdict: str, now: int) -> None:
        r = self.r
        r.step_results.append(
            StepResult(r.current_batch, r.step, self.weight(), verdict, r.bake_started_ms, now, [*r.analysis])
        )

    def _check_deadlines(self, now: int) -> None:
        r, o = self.r, self.r.options
        for h in r.hosts:
            late = now - h.started_ms > o.healthy_deadline_ms
            if h.state in (HostState.SWITCHING, HostState.WEIGHTING, HostState.VERIFYING) and late:
                _log(h, HostState.FAILED, f"not healthy within the healthy deadline ({o.healthy_deadline_ms} ms)", now)
                self.fail(f"host {h.host_id} missed its healthy deadline", now)
                return
        if r.state is RolloutState.RUNNING and now - r.last_progress_ms > o.progress_deadline_ms:
            self.fail(f"no progress within the progress deadline ({o.progress_deadline_ms} ms)", now)

    def _running(self) -> bool:
        return self.r.state is RolloutState.RUNNING

    def _batch(self) -> list[HostStep]:
        return [h for h in self.r.hosts if h.batch == self.r.current_batch and h.state is not HostState.SKIPPED]

    def _advance(self, now: int) -> list[Action]:
        r = self.r
        batch = self._batch()
        if any(h.state is HostState.FAILED for h in batch):
            return []  # fail() was called when it failed
        if self.stepped():
            return self._advance_step(batch, now)
        if all(h.state is HostState.HEALTHY for h in batch):
            return self._bake(batch, f"baking batch {r.current_batch + 1}/{r.batches}", now)
        out: list[Action] = []
        for h in batch:
            if h.state is HostState.PENDING:
                self._issue(h, HostState.SWITCHING, f"switching to {r.version}", now)
                out.append(Converge(h.host_id, r.version))
        if out:
            r.message = f"batch {r.current_batch + 1}/{r.batches}: switching {', '.join(c.host_id for c in out)}"
        return out

    def _bake(self, batch: list[HostStep], message: str, now: int) -> list[Action]:
        """Bake the batch (or the step), or go straight on when there is no bake."""
        r = self.r
        if r.options.bake_ms > 0 and batch:
            r.state, r.bake_until_ms, r.bake_started_ms, r.analysis = (
                RolloutState.BAKING,
                now + r.options.bake_ms,
                now,
                [],
            )
            r.message = message
            return []
        if self.stepped():
            self._record_step("pass", now)
        self._bake_done(now)
        return self._advance(now) if self._running() else []

    def _issue(self, h: HostStep, state: HostState, message: str, now: int) -> None:
        if not h.order:  # the order of first contact: the reverse of it is the rollback's
            h.order = max((x.order for x in self.r.hosts), default=0) + 1
        h.started_ms = now
        _log(h, state, message, now)

    def _advance_step(self, batch: list[HostStep], now: int) -> list[Action]:
        r = self.r
        w = self.weight()
        where = f"step {r.step + 1}/{len(r.options.steps)} ({w}%), batch {r.current_batch + 1}/{r.batches}"
        at = [h for h in batch if h.state is HostState.HEALTHY or (h.state is HostState.WEIGHTED and h.weight == w)]
        if len(at) == len(batch):
            return self._bake(batch, f"baking {where}", now)
        out: list[Action] = []
        for h in batch:
            if h.state is HostState.PENDING or (h.state is HostState.WEIGHTED and h.weight < w):
                self._issue(h, HostState.WEIGHTING, f"weighting {r.version} to {w}%", now)
                out.append(Weigh(h.host_id, r.version, w))
        if out:
            r.message = f"{where}: weighting {', '.join(a.host_id for a in out)}"
        return out

    def _batch_done(self, now: int) -> None:
        r = self.r
        r.last_progress_ms = now
        if r.current_batch + 1 >= r.batches:
            self._finish(RolloutState.SUCCEEDED, f"{r.version} is live on every host", now)
            return
        canary_done = r.current_batch == 0 and r.options.canary > 0
        r.current_batch += 1
        r.state, r.step = RolloutState.RUNNING, 0
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

    def on_weighted(self, host_id: str, ok: bool, message: str, weight: int, slots: tuple[str, str], now: int) -> None:
        """A weighted step's outcome: ``weight`` is what the host has now,
        ``slots`` its (active, candidate) slots."""
        r = self.r
        h = r.host(host_id)
        if h.state is not HostState.WEIGHTING:
            return
        if not ok:
            _log(h, HostState.FAILED, message, now)
            if r.state is not RolloutState.ROLLING_BACK:
                self.fail(f"host {host_id}: {message}", now)
            return
        h.weight, r.last_progress_ms = weight, now
        h.active_slot, h.candidate_slot = slots
        if weight >= 100:  # flipped: it verifies like a switched host
            h.switched_ms, h.healthy_since_ms, h.bad_checks = now, now, 0
            _log(h, HostState.VERIFYING, message, now)
        else:
            _log(h, HostState.WEIGHTED, message, now)

    def on_health(self, host_id: str, healthy: bool, detail: str, now: int) -> None:
        r = self.r
        h = r.host(host_id)
        if h.state not in (HostState.VERIFYING, HostState.WEIGHTED):
            return
        if healthy:
            h.bad_checks = 0
            if h.state is HostState.VERIFYING and now - h.healthy_since_ms >= r.options.min_healthy_ms:
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
            if self.stepped():
                self._record_step("fail", now)
            self.fail("analysis failed: " + "; ".join(v.detail or f"{v.name} = {v.value:g}" for v in failed), now)

    # failure and rollback ---------------------------------------------------
    def fail(self, reason: str, now: int, final: RolloutState = RolloutState.ROLLED_BACK) -> None:
        r = self.r
        r.updated_ms = now
        if not r.options.auto_rollback or not any(h.order for h in r.hosts):
            done = RolloutState.ABORTED if final is RolloutState.ABORTED else RolloutState.FAILED
            self._finish(done, reason, now)
            return
        r.state, r.final_state, r.message, r.pause = RolloutState.ROLLING_BACK, final.value, reason, Pause.NONE

    def _roll_back_next(self, now: int) -> list[Action]:
        r = self.r
        if any(h.state in (HostState.SWITCHING, HostState.WEIGHTING, HostState.ROLLING_BACK) for h in r.hosts):
            return []  # one at a time; an in-flight switch finishes first
        # a host was asked to switch only after what it served was recorded: without it, nothing was sent
        todo = [
            h
            for h in r.hosts
            if h.order
            and (h.from_recorded or h.from_version)
            and h.state in (HostState.VERIFYING, HostState.HEALTHY, HostState.FAILED, HostState.WEIGHTED)
        ]
        weighted = [h for h in todo if h.state is HostState.WEIGHTED]
        if weighted:  # never flipped: every one of them back to weight 0 at once
            for h in weighted:
                _log(h, HostState.ROLLING_BACK, f"weight of {r.version} back to 0", now)
            return [Converge(h.host_id, h.from_version) for h in weighted]
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
            self._bake_done(now)

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
        if r.state is RolloutState.BAKING:  # the bake window starts over
            r.bake_started_ms, r.bake_until_ms, r.analysis = now, now + r.options.bake_ms, []
        r.pause, r.last_progress_ms, r.message = Pause.NONE, now, "resumed"

    def abort(self, reason: str, now: int) -> None:
        r = self.r
        if r.terminal or r.state is RolloutState.ROLLING_BACK:
            raise TransitionError(f"rollout {r.id} is {self.describe()}: nothing to abort")
        self.fail(f"aborted: {reason}" if reason else "aborted by an operator", now, RolloutState.ABORTED)

    def describe(self) -> str:
        r = self.r
        return f"{r.state.value} ({r.pause.value})" if r.pause is not Pause.NONE else r.state.value
