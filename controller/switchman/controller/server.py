"""The Controller and Ops gRPC servicers: thin; errors mapped to status codes here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
from switchman.controller import __version__, lifecycle
from switchman.controller import services as services_mod
from switchman.controller.agents import AgentError, AgentGateway
from switchman.controller.alerts.manager import rule_key
from switchman.controller.chaos.faults import FaultOps
from switchman.controller.chaos.rpc import ChaosRpcs
from switchman.controller.errors import (
    Conflict,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
)
from switchman.controller.fleet import Host
from switchman.controller.incidents.rpc import IncidentRpcs
from switchman.controller.ops_queries import QueryService
from switchman.controller.rollouts.rpc import RolloutRpcs
from switchman.controller.rollouts.views import rollout_message
from switchman.controller.rpc_base import BoundServicer, Ctx, audit_call, rpc
from switchman.controller.security.auth import actor
from switchman.controller.security.certs import cert_not_after_ms
from switchman.controller.services import ServiceRegistry
from switchman.controller.slo.report import summary
from switchman.controller.slo.rpc import SLORpcs
from switchman.controller.store.abc import Event
from switchman.controller.store.backup import stream_backup
from switchman.controller.views import (
    alert_messages,
    firing_by_severity,
    host_detail,
    host_summary,
    open_by_priority,
    select_alerts,
    select_hosts,
    silence_message,
    token_message,
)
from switchman.controller.wiring import ControllerRef
from switchman.proto.channel import (
    CONTROLLER_IDENTITY,
    peer_certificate,
    peer_identity,
    split_host_port,
)
from switchman.proto.services import to_proto
from switchman.proto.unimplemented import fill_unimplemented
from switchman.proto.v1 import agent_pb2, common_pb2, controller_pb2, controller_pb2_grpc, ops_pb2, ops_pb2_grpc
from switchman.proto.validate import check_identifier, check_labels

log = logging.getLogger(__name__)


class ControllerServicer(BoundServicer, controller_pb2_grpc.ControllerServicer):
    """Called by agents."""

    def __init__(self, ref: ControllerRef) -> None:
        self.ref = ref

    def _authorize(self, context: Ctx, host_id: str) -> None:
        """With TLS, an agent call must carry a fleet certificate whose name is the host id."""
        if not self.core.require_agent_certs:
            return
        identity = peer_identity(context)
        if identity is None:
            raise Unauthenticated("agent calls need the agent's certificate: connect to the controller's agent port")
        if identity == CONTROLLER_IDENTITY:
            raise PermissionDenied("the controller's certificate is not an agent's")
        if identity != host_id:
            raise PermissionDenied(f"certificate {identity!r} may not act as host {host_id!r}")

    @rpc
    async def Register(self, request: controller_pb2.RegisterRequest, context: Ctx) -> controller_pb2.RegisterResponse:
        core = self.core
        check_identifier("host_id", request.host_id)
        self._authorize(context, request.host_id)
        labels = check_labels("labels", dict(request.labels))
        try:
            split_host_port(request.advertise)
        except ValueError as exc:
            raise InvalidArgument(f"advertise: {exc}") from None
        now = core.clock_ms()
        await core.fleet.register(
            Host(
                host_id=request.host_id,
                hostname=request.hostname[:255],
                address=request.advertise,
                labels=labels,
                agent_version=request.agent_version[:64],
                capabilities=[c[:64] for c in request.capabilities[:32]],
                registered_ms=now,
                last_heartbeat_ms=now,
                cert_not_after_ms=cert_not_after_ms(peer_certificate(context)),
                metrics_address=request.metrics_address[:300],
                job=request.job[:200] or "node",
            )
        )
        return controller_pb2.RegisterResponse(
            heartbeat_interval_ms=core.heartbeat_interval_ms,
            acked_sequence=core.ingest.acked(request.host_id, request.spool_epoch),
            server_time_ms=now,
            services=sorted(await core.services.names()),
            services_listed=True,
            comeback_spread_ms=core.fleet.comeback_spread_ms(),
        )

    @rpc
    async def Heartbeat(
        self, request: controller_pb2.HeartbeatRequest, context: Ctx
    ) -> controller_pb2.HeartbeatResponse:
        fleet = self.core.fleet
        known = fleet.heartbeat(request.host_id)
        return controller_pb2.HeartbeatResponse(
            server_time_ms=self.core.clock_ms(), reregister=not known, comeback_spread_ms=fleet.comeback_spread_ms()
        )

    @rpc
    async def PushTelemetry(
        self, request: controller_pb2.PushTelemetryRequest, context: Ctx
    ) -> controller_pb2.PushTelemetryResponse:
        core = self.core
        self._authorize(context, request.host_id)
        if request.host_id not in core.fleet.hosts:
            raise Conflict(f"host {request.host_id!r} is not registered; call Register first")
        result = await core.ingest.push(request.host_id, request.spool_epoch, request.batches)
        core.fleet.pushed(request.host_id)
        return controller_pb2.PushTelemetryResponse(
            acked_sequence=result.acked,
            stored_samples=result.stored,
            duplicate_batches=result.duplicates,
            comeback_spread_ms=core.fleet.comeback_spread_ms(),
        )

    @rpc
    async def ReportEvent(
        self, request: controller_pb2.ReportEventRequest, context: Ctx
    ) -> controller_pb2.ReportEventResponse:
        core = self.core
        self._authorize(context, request.host_id)
        core.fleet.get(request.host_id)
        e = request.event

        event = Event(
            request.host_id,
            e.timestamp_ms or core.clock_ms(),
            e.kind[:200],
            int(e.severity),
            e.service[:200],
            e.message[:4096],
        )
        await core.storage.write(lambda tx: core.storage.events.add(tx, event))
        return controller_pb2.ReportEventResponse()


class OpsServicer(RolloutRpcs, ChaosRpcs, SLORpcs, IncidentRpcs, ops_pb2_grpc.OpsServicer):
    """Called by the CLI (authenticated by :class:`~switchman.controller.security.auth.AuthInterceptor`)."""

    audits_calls = True

    def __init__(self, ref: ControllerRef, features: list[str]) -> None:
        self.ref = ref
        self.features = features
        fill_unimplemented(
            self, ops_pb2.DESCRIPTOR.services_by_name["Ops"], ops_pb2_grpc.OpsServicer, "this controller"
        )

    @property
    def faults(self) -> FaultOps:
        return self.core.faults

    @property
    def services(self) -> ServiceRegistry:
        return self.core.services

    @property
    def agents(self) -> AgentGateway:
        return self.core.agents

    @property
    def queries(self) -> QueryService:
        return QueryService(self.core.evaluator)

    @rpc
    async def GetStatus(self, request: ops_pb2.GetStatusRequest, context: Ctx) -> ops_pb2.FleetStatus:
        core = self.core
        now = core.clock_ms()
        hosts = list(core.fleet.hosts.values())
        down = [h for h in hosts if not core.fleet.is_up(h, now)]
        return ops_pb2.FleetStatus(
            server_time_ms=now,
            hosts_total=len(hosts),
            hosts_up=len(hosts) - len(down),
            hosts_down=len(down),
            down_hosts=[host_summary(core, h, now) for h in sorted(down, key=lambda h: h.host_id)[:50]],
            controller_version=__version__,
            controller_health="serving",
            series_total=len(core.storage.index),
            samples_total=core.ingest.samples_total,
            ingest_samples_per_s=core.rate.per_second(),
            db_bytes=core.storage.db.size_bytes(),
            features=self.features,
            firing_alerts=firing_by_severity(core),
            open_incidents=open_by_priority(core),
            active_rollouts=[rollout_message(r) for r in core.rollouts.active()],
            active_faults=self.faults.active(),
            slos=[
                summary(st, core.slo.period, None) for st in sorted(core.slo.states.values(), key=lambda s: s.slo.id)
            ],
        )

    @rpc
    async def ListHosts(self, request: ops_pb2.ListHostsRequest, context: Ctx) -> ops_pb2.ListHostsResponse:
        core = self.core
        now = core.clock_ms()
        if request.state not in ("", "up", "down"):
            raise InvalidArgument(f"state: {request.state!r} is not up or down")
        out = [host_summary(core, h, now) for h in select_hosts(core, request.selector, request.state, now)]
        return ops_pb2.ListHostsResponse(hosts=out)

    @rpc
    async def GetHost(self, request: ops_pb2.GetHostRequest, context: Ctx) -> ops_pb2.HostDetail:
        return await host_detail(self.core, self.core.fleet.get(request.host_id))

    @rpc
    async def Query(self, request: ops_pb2.QueryRequest, context: Ctx) -> ops_pb2.QueryResponse:
        return await self.queries.instant(request.expr, request.time_ms or self.core.clock_ms())

    @rpc
    async def QueryRange(self, request: ops_pb2.QueryRangeRequest, context: Ctx) -> ops_pb2.QueryResponse:
        return await self.queries.range(request.expr, request.start_ms, request.end_ms, request.step_ms)

    @rpc
    async def CreateToken(self, request: ops_pb2.CreateTokenRequest, context: Ctx) -> ops_pb2.CreateTokenResponse:
        rec, secret = await self.core.tokens.create(request.name, request.role, self.core.clock_ms())
        return ops_pb2.CreateTokenResponse(token=token_message(rec), secret=secret)

    @rpc
    async def ListTokens(self, request: ops_pb2.ListTokensRequest, context: Ctx) -> ops_pb2.ListTokensResponse:
        return ops_pb2.ListTokensResponse(tokens=[token_message(t) for t in self.core.tokens.list()])

    @rpc
    async def ListAlerts(self, request: ops_pb2.ListAlertsRequest, context: Ctx) -> ops_pb2.ListAlertsResponse:
        if request.state and request.state not in ("pending", "firing"):
            raise InvalidArgument(f"state: {request.state!r} is not pending or firing")
        found = select_alerts(self.core, request.state, request.matchers)
        out = alert_messages(self.core, found, self.core.clock_ms())
        return ops_pb2.ListAlertsResponse(alerts=out)

    @rpc
    async def AddSilence(self, request: ops_pb2.AddSilenceRequest, context: Ctx) -> ops_pb2.Silence:
        now = self.core.clock_ms()
        s = await self.core.silences.add(
            [(m.name, m.op, m.value) for m in request.matchers],
            request.starts_at_ms,
            request.ends_at_ms,
            request.author or actor.get() or "",
            request.comment,
            now,
        )
        return silence_message(s, now)

    @rpc
    async def ListSilences(self, request: ops_pb2.ListSilencesRequest, context: Ctx) -> ops_pb2.ListSilencesResponse:
        now = self.core.clock_ms()
        return ops_pb2.ListSilencesResponse(
            silences=[silence_message(s, now) for s in self.core.silences.find(now, request.include_expired)]
        )

    @rpc
    async def ExpireSilence(self, request: ops_pb2.ExpireSilenceRequest, context: Ctx) -> ops_pb2.Silence:
        now = self.core.clock_ms()
        return silence_message(await self.core.silences.expire(request.id, now), now)

    @rpc
    async def ListRules(self, request: ops_pb2.ListRulesRequest, context: Ctx) -> ops_pb2.ListRulesResponse:
        rules = self.core.rules
        out = []
        for g in rules.groups:
            for r in g.rules:
                h = rules.health.get(rule_key(g, r))
                out.append(
                    ops_pb2.Rule(
                        group=g.name,
                        name=r.name,
                        kind=r.kind,
                        expr=r.expr_text,
                        for_ms=r.for_ms,
                        health="err" if h and h.last_error else "ok" if h else "unknown",
                        last_error=h.last_error if h else "",
                        last_evaluation_ms=h.last_eval_ms if h else 0,
                        evaluation_seconds=h.seconds if h else 0.0,
                        file=g.file,
                    )
                )
        return ops_pb2.ListRulesResponse(rules=out)

    @rpc
    async def ApplyService(self, request: ops_pb2.ApplyServiceRequest, context: Ctx) -> common_pb2.ServiceSpec:
        v = await self.services.apply(request.source_toml, request.file_name, actor.get())
        return to_proto(v.spec)

    @rpc
    async def GetService(self, request: ops_pb2.GetServiceRequest, context: Ctx) -> ops_pb2.GetServiceResponse:
        history = await self.services.history(request.name)
        resp = ops_pb2.GetServiceResponse(spec=to_proto(history[-1].spec))
        if request.history:
            resp.history.extend(to_proto(v.spec) for v in history)
        for host in sorted(self.core.fleet.hosts.values(), key=lambda h: h.host_id):
            if not self.core.fleet.is_up(host):
                continue
            try:
                statuses = await self.agents.services(host.host_id)
            except AgentError:
                continue
            for st in statuses:
                if st.name == request.name:
                    resp.hosts.append(ops_pb2.HostServiceStatus(host_id=host.host_id, status=st))
        return resp

    @rpc
    async def ListServices(self, request: ops_pb2.ListServicesRequest, context: Ctx) -> ops_pb2.ListServicesResponse:
        return ops_pb2.ListServicesResponse(services=[to_proto(v.spec) for v in await self.services.latest_all()])

    @rpc
    async def SwitchHost(self, request: ops_pb2.SwitchHostRequest, context: Ctx) -> ops_pb2.SwitchHostResponse:
        spec = (await self.services.current(request.service)).spec
        out = await services_mod.switch_host(
            self.core.fleet, self.agents, spec, request.host_id, request.version, request.rollback
        )
        await self._event(request.host_id, spec.name, "rollback" if request.rollback else "switch", out.message)
        result = agent_pb2.SwitchResponse(status=out.status, changed=out.changed, message=out.message)
        return ops_pb2.SwitchHostResponse(result=result)

    @rpc
    async def StopService(self, request: ops_pb2.OpsStopServiceRequest, context: Ctx) -> ops_pb2.StopServiceResponse:
        spec = (await self.services.current(request.name)).spec
        results = await lifecycle.stop_on_hosts(self.core.fleet, self.agents, spec, list(request.host_ids))
        return await self._stopped(spec.name, results)

    @rpc
    async def RemoveService(self, request: ops_pb2.RemoveServiceRequest, context: Ctx) -> ops_pb2.StopServiceResponse:
        core = self.core

        def busy(name: str) -> str:
            rollout = core.rollouts.active_for(name)
            return f"rollout {rollout.id}" if rollout is not None else core.drills.busy(name)

        results = await lifecycle.remove_service(self.services, core.fleet, self.agents, busy, request.name)
        return await self._stopped(request.name, results)

    async def _stopped(self, service: str, results: list[lifecycle.HostStop]) -> ops_pb2.StopServiceResponse:
        for r in results:
            if r.outcome is lifecycle.StopOutcome.STOPPED:
                await self._event(r.host_id, service, "service.stopped", r.message)
        return ops_pb2.StopServiceResponse(
            hosts=[ops_pb2.HostStopResult(host_id=r.host_id, outcome=r.outcome, message=r.message) for r in results]
        )

    async def _event(self, host_id: str, service: str, kind: str, message: str) -> None:
        storage = self.core.storage
        event = Event(host_id, self.core.clock_ms(), kind, 1, service, message, {"actor": actor.get()})
        await storage.write(lambda tx: storage.events.add(tx, event))

    @rpc
    async def ListAudit(self, request: ops_pb2.ListAuditRequest, context: Ctx) -> ops_pb2.ListAuditResponse:
        rows = await asyncio.to_thread(self.core.audit.entries, request.since_ms, request.actor, request.limit or 1000)
        return ops_pb2.ListAuditResponse(
            entries=[
                ops_pb2.AuditEntry(
                    id=e.id,
                    timestamp_ms=e.ts,
                    actor=e.actor,
                    action=e.action,
                    target=e.target,
                    arguments=e.arguments,
                    result=e.result,
                    hash=e.hash,
                )
                for e in rows
            ]
        )

    @rpc
    async def VerifyAudit(self, request: ops_pb2.VerifyAuditRequest, context: Ctx) -> ops_pb2.VerifyAuditResponse:
        v = await asyncio.to_thread(self.core.audit.verify)
        return ops_pb2.VerifyAuditResponse(ok=v.ok, entries=v.entries, first_bad_id=v.first_bad_id, message=v.message)

    async def Backup(self, request: ops_pb2.BackupRequest, context: Ctx) -> AsyncIterator[ops_pb2.BackupChunk]:
        """The database, copied online, streamed in 1 MiB chunks (admin only, audited)."""
        if not self.ref.ready:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "controller is starting (running migrations)")
        await audit_call(self.core, "Backup", request, "ok")
        chunks = stream_backup(self.core.storage.db.path)
        while True:
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                return
            yield ops_pb2.BackupChunk(data=chunk)

    @rpc
    async def RevokeToken(self, request: ops_pb2.RevokeTokenRequest, context: Ctx) -> ops_pb2.Token:
        return token_message(await self.core.tokens.revoke(request.name))
