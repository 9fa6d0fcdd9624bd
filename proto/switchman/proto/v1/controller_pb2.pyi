from switchman.proto.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterRequest(_message.Message):
    __slots__ = ("host_id", "hostname", "labels", "advertise", "agent_version", "capabilities", "spool_epoch", "metrics_address", "job")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SPOOL_EPOCH_FIELD_NUMBER: _ClassVar[int]
    METRICS_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    hostname: str
    labels: _containers.ScalarMap[str, str]
    advertise: str
    agent_version: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    spool_epoch: str
    metrics_address: str
    job: str
    def __init__(self, host_id: _Optional[str] = ..., hostname: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., advertise: _Optional[str] = ..., agent_version: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., spool_epoch: _Optional[str] = ..., metrics_address: _Optional[str] = ..., job: _Optional[str] = ...) -> None: ...

class RegisterResponse(_message.Message):
    __slots__ = ("heartbeat_interval_ms", "acked_sequence", "server_time_ms", "services", "services_listed", "comeback_spread_ms")
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    ACKED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    SERVICES_LISTED_FIELD_NUMBER: _ClassVar[int]
    COMEBACK_SPREAD_MS_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_ms: int
    acked_sequence: int
    server_time_ms: int
    services: _containers.RepeatedScalarFieldContainer[str]
    services_listed: bool
    comeback_spread_ms: int
    def __init__(self, heartbeat_interval_ms: _Optional[int] = ..., acked_sequence: _Optional[int] = ..., server_time_ms: _Optional[int] = ..., services: _Optional[_Iterable[str]] = ..., services_listed: _Optional[bool] = ..., comeback_spread_ms: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("host_id", "timestamp_ms", "spool_batches")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    SPOOL_BATCHES_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    timestamp_ms: int
    spool_batches: int
    def __init__(self, host_id: _Optional[str] = ..., timestamp_ms: _Optional[int] = ..., spool_batches: _Optional[int] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("server_time_ms", "reregister", "comeback_spread_ms")
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    REREGISTER_FIELD_NUMBER: _ClassVar[int]
    COMEBACK_SPREAD_MS_FIELD_NUMBER: _ClassVar[int]
    server_time_ms: int
    reregister: bool
    comeback_spread_ms: int
    def __init__(self, server_time_ms: _Optional[int] = ..., reregister: _Optional[bool] = ..., comeback_spread_ms: _Optional[int] = ...) -> None: ...

class TelemetryBatch(_message.Message):
    __slots__ = ("sequence", "first_sequence", "series", "events", "dropped_samples")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    first_sequence: int
    series: _containers.RepeatedCompositeFieldContainer[_common_pb2.Series]
    events: _containers.RepeatedCompositeFieldContainer[_common_pb2.Event]
    dropped_samples: int
    def __init__(self, sequence: _Optional[int] = ..., first_sequence: _Optional[int] = ..., series: _Optional[_Iterable[_Union[_common_pb2.Series, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_common_pb2.Event, _Mapping]]] = ..., dropped_samples: _Optional[int] = ...) -> None: ...

class PushTelemetryRequest(_message.Message):
    __slots__ = ("host_id", "spool_epoch", "batches")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    SPOOL_EPOCH_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    spool_epoch: str
    batches: _containers.RepeatedCompositeFieldContainer[TelemetryBatch]
    def __init__(self, host_id: _Optional[str] = ..., spool_epoch: _Optional[str] = ..., batches: _Optional[_Iterable[_Union[TelemetryBatch, _Mapping]]] = ...) -> None: ...

class PushTelemetryResponse(_message.Message):
    __slots__ = ("acked_sequence", "stored_samples", "duplicate_batches", "comeback_spread_ms")
    ACKED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STORED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_BATCHES_FIELD_NUMBER: _ClassVar[int]
    COMEBACK_SPREAD_MS_FIELD_NUMBER: _ClassVar[int]
    acked_sequence: int
    stored_samples: int
    duplicate_batches: int
    comeback_spread_ms: int
    def __init__(self, acked_sequence: _Optional[int] = ..., stored_samples: _Optional[int] = ..., duplicate_batches: _Optional[int] = ..., comeback_spread_ms: _Optional[int] = ...) -> None: ...

class ReportEventRequest(_message.Message):
    __slots__ = ("host_id", "event")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    event: _common_pb2.Event
    def __init__(self, host_id: _Optional[str] = ..., event: _Optional[_Union[_common_pb2.Event, _Mapping]] = ...) -> None: ...

class ReportEventResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
