"""Rollouts <-> Ops messages."""

from __future__ import annotations

from switchman.controller.rollouts.model import Options, Rollout, Verdict
from switchman.proto.v1 import ops_pb2


def options_from_proto(o: ops_pb2.RolloutOptions) -> Options:
    """Zero means "the default" for durations and parallelism; ``canary`` and
    ``bake_ms`` take -1 for "the strategy's default" (0 is a real choice)."""
    d = Options()
    return Options(
        strategy=o.strategy or d.strategy,
        selector=dict(o.selector),
        max_parallel=o.max_parallel or d.max_parallel,
        canary=o.canary,
        min_healthy_ms=o.min_healthy_ms or d.min_healthy_ms,
        healthy_deadline_ms=o.healthy_deadline_ms or d.healthy_deadline_ms,
        progress_deadline_ms=o.progress_deadline_ms or d.progress_deadline_ms,
        bake_ms=o.bake_ms,
        analysis=list(o.analysis),
        manual=o.manual,
        auto_rollback=o.auto_rollback,
        require_all=o.require_all,
        force=o.force,
        steps=list(o.steps),
        max_error_rate=o.max_error_rate if o.HasField("max_error_rate") else -1.0,
        max_latency_regression=o.max_latency_regression if o.HasField("max_latency_regression") else -1.0,
        min_requests=o.min_requests or d.min_requests,
    )


def _verdicts(vs: list[Verdict]) -> list[ops_pb2.AnalysisValue]:
    return [
        ops_pb2.AnalysisValue(
            name=v.name,
            expr=v.expr,
            verdict=v.verdict,
            value=v.value,
            evaluated_at_ms=v.at_ms,
            threshold=v.threshold,
            baseline=v.baseline,
            requests=v.requests,
            detail=v.detail,
        )
        for v in vs
    ]


def rollout_message(r: Rollout) -> ops_pb2.Rollout:
    o = r.options
    return ops_pb2.Rollout(
        id=r.id,
        service=r.service,
        version=r.version,
        from_version=r.from_version or _common_from(r),
        state=r.state.value if not r.pause else f"{r.state.value}:{r.pause.value}",
        options=ops_pb2.RolloutOptions(
            strategy=o.strategy,
            selector=o.selector,
            max_parallel=o.max_parallel,
            canary=o.canary,
            min_healthy_ms=o.min_healthy_ms,
            healthy_deadline_ms=o.healthy_deadline_ms,
            progress_deadline_ms=o.progress_deadline_ms,
            bake_ms=o.bake_ms,
            analysis=o.analysis,
            manual=o.manual,
            auto_rollback=o.auto_rollback,
            require_all=o.require_all,
            force=o.force,
            steps=o.steps,
            max_error_rate=o.max_error_rate if o.max_error_rate >= 0 else None,
            max_latency_regression=o.max_latency_regression if o.max_latency_regression >= 0 else None,
            min_requests=o.min_requests,
        ),
        hosts=[
            ops_pb2.RolloutHost(
                host_id=h.host_id,
                state=h.state.value,
                batch=max(h.batch, 0),
                message=h.message,
                from_version=h.from_version,
                updated_at_ms=h.updated_ms,
                weight=h.weight,
            )
            for h in r.hosts
        ],
        batches=r.batches,
        current_batch=r.current_batch,
        analysis=_verdicts(r.analysis),
        step=r.step,
        steps=[
            ops_pb2.RolloutStep(
                batch=s.batch,
                index=s.index,
                weight=s.weight,
                verdict=s.verdict,
                started_at_ms=s.started_ms,
                ended_at_ms=s.ended_ms,
                analysis=_verdicts(s.analysis),
            )
            for s in r.step_results
        ],
        created_at_ms=r.created_ms,
        updated_at_ms=r.updated_ms,
        finished_at_ms=r.finished_ms,
        message=r.message,
        created_by=r.created_by + (" (rollback)" if r.kind == "rollback" else ""),
    )


def _common_from(r: Rollout) -> str:
    versions = [h.from_version for h in r.hosts if h.from_version]
    return max(set(versions), key=versions.count) if versions else ""
