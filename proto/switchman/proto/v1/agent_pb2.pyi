from switchman.proto.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("host_id", "hostname", "version", "labels", "capabilities", "advertise", "started_at_ms", "controller", "controller_connected", "spool_batches", "spool_bytes", "spool_dropped_samples")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    SPOOL_BATCHES_FIELD_NUMBER: _ClassVar[int]
    SPOOL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SPOOL_DROPPED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    hostname: str
    version: str
    labels: _containers.ScalarMap[str, str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    advertise: str
    started_at_ms: int
    controller: str
    controller_connected: bool
    spool_batches: int
    spool_bytes: int
    spool_dropped_samples: int
    def __init__(self, host_id: _Optional[str] = ..., hostname: _Optional[str] = ..., version: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., advertise: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., controller: _Optional[str] = ..., controller_connected: _Optional[bool] = ..., spool_batches: _Optional[int] = ..., spool_bytes: _Optional[int] = ..., spool_dropped_samples: _Optional[int] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("prefix",)
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    def __init__(self, prefix: _Optional[str] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("timestamp_ms", "series")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    series: _containers.RepeatedCompositeFieldContainer[_common_pb2.Series]
    def __init__(self, timestamp_ms: _Optional[int] = ..., series: _Optional[_Iterable[_Union[_common_pb2.Series, _Mapping]]] = ...) -> None: ...

class ListAgentServicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[_common_pb2.ServiceStatus]
    def __init__(self, services: _Optional[_Iterable[_Union[_common_pb2.ServiceStatus, _Mapping]]] = ...) -> None: ...

class SwitchRequest(_message.Message):
    __slots__ = ("spec", "version", "healthy_deadline_ms", "request_id")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.ServiceSpec
    version: str
    healthy_deadline_ms: int
    request_id: str
    def __init__(self, spec: _Optional[_Union[_common_pb2.ServiceSpec, _Mapping]] = ..., version: _Optional[str] = ..., healthy_deadline_ms: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class SwitchResponse(_message.Message):
    __slots__ = ("status", "changed", "flip_latency_ms", "message")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    FLIP_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.ServiceStatus
    changed: bool
    flip_latency_ms: int
    message: str
    def __init__(self, status: _Optional[_Union[_common_pb2.ServiceStatus, _Mapping]] = ..., changed: _Optional[bool] = ..., flip_latency_ms: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("service", "request_id")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    service: str
    request_id: str
    def __init__(self, service: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetWeightRequest(_message.Message):
    __slots__ = ("spec", "version", "weight", "healthy_deadline_ms")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.ServiceSpec
    version: str
    weight: int
    healthy_deadline_ms: int
    def __init__(self, spec: _Optional[_Union[_common_pb2.ServiceSpec, _Mapping]] = ..., version: _Optional[str] = ..., weight: _Optional[int] = ..., healthy_deadline_ms: _Optional[int] = ...) -> None: ...

class StopServiceRequest(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: str
    def __init__(self, service: _Optional[str] = ...) -> None: ...

class RunProbeRequest(_message.Message):
    __slots__ = ("probe", "name")
    PROBE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    probe: _common_pb2.ProbeSpec
    name: str
    def __init__(self, probe: _Optional[_Union[_common_pb2.ProbeSpec, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class InjectFaultRequest(_message.Message):
    __slots__ = ("spec", "request_id")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.FaultSpec
    request_id: str
    def __init__(self, spec: _Optional[_Union[_common_pb2.FaultSpec, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ClearFaultRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListFaultsRequest(_message.Message):
    __slots__ = ("include_reverted",)
    INCLUDE_REVERTED_FIELD_NUMBER: _ClassVar[int]
    include_reverted: bool
    def __init__(self, include_reverted: _Optional[bool] = ...) -> None: ...

class ListFaultsResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    def __init__(self, faults: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ...) -> None: ...

class HaltFaultsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HaltFaultsResponse(_message.Message):
    __slots__ = ("reverted",)
    REVERTED_FIELD_NUMBER: _ClassVar[int]
    reverted: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    def __init__(self, reverted: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ...) -> None: ...
