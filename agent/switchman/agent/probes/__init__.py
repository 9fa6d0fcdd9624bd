"""Health probes (SPEC 3.3): http, tcp, exec and grpc, with Consul's
passing/warning/critical semantics."""

from switchman.agent.probes.state import ProbeState, Status
from switchman.proto.probes import ProbeError, ProbeOutcome, ProbeSpec, parse_probe

__all__ = ["ProbeError", "ProbeOutcome", "ProbeSpec", "ProbeState", "Status", "parse_probe"]
