from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_INFO: _ClassVar[Severity]
    SEVERITY_WARNING: _ClassVar[Severity]
    SEVERITY_CRITICAL: _ClassVar[Severity]

class Slot(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLOT_UNSPECIFIED: _ClassVar[Slot]
    SLOT_BLUE: _ClassVar[Slot]
    SLOT_GREEN: _ClassVar[Slot]

class ProbeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROBE_KIND_UNSPECIFIED: _ClassVar[ProbeKind]
    PROBE_KIND_HTTP: _ClassVar[ProbeKind]
    PROBE_KIND_TCP: _ClassVar[ProbeKind]
    PROBE_KIND_EXEC: _ClassVar[ProbeKind]
    PROBE_KIND_GRPC: _ClassVar[ProbeKind]

class ProbeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROBE_STATUS_UNSPECIFIED: _ClassVar[ProbeStatus]
    PROBE_STATUS_PASSING: _ClassVar[ProbeStatus]
    PROBE_STATUS_WARNING: _ClassVar[ProbeStatus]
    PROBE_STATUS_CRITICAL: _ClassVar[ProbeStatus]

class SlotState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SLOT_STATE_UNSPECIFIED: _ClassVar[SlotState]
    SLOT_STATE_STOPPED: _ClassVar[SlotState]
    SLOT_STATE_STARTING: _ClassVar[SlotState]
    SLOT_STATE_HEALTHY: _ClassVar[SlotState]
    SLOT_STATE_UNHEALTHY: _ClassVar[SlotState]
    SLOT_STATE_DRAINING: _ClassVar[SlotState]
    SLOT_STATE_FAILED: _ClassVar[SlotState]

class FaultState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAULT_STATE_UNSPECIFIED: _ClassVar[FaultState]
    FAULT_STATE_PENDING: _ClassVar[FaultState]
    FAULT_STATE_ACTIVE: _ClassVar[FaultState]
    FAULT_STATE_REVERTED: _ClassVar[FaultState]
    FAULT_STATE_FAILED: _ClassVar[FaultState]
SEVERITY_UNSPECIFIED: Severity
SEVERITY_INFO: Severity
SEVERITY_WARNING: Severity
SEVERITY_CRITICAL: Severity
SLOT_UNSPECIFIED: Slot
SLOT_BLUE: Slot
SLOT_GREEN: Slot
PROBE_KIND_UNSPECIFIED: ProbeKind
PROBE_KIND_HTTP: ProbeKind
PROBE_KIND_TCP: ProbeKind
PROBE_KIND_EXEC: ProbeKind
PROBE_KIND_GRPC: ProbeKind
PROBE_STATUS_UNSPECIFIED: ProbeStatus
PROBE_STATUS_PASSING: ProbeStatus
PROBE_STATUS_WARNING: ProbeStatus
PROBE_STATUS_CRITICAL: ProbeStatus
SLOT_STATE_UNSPECIFIED: SlotState
SLOT_STATE_STOPPED: SlotState
SLOT_STATE_STARTING: SlotState
SLOT_STATE_HEALTHY: SlotState
SLOT_STATE_UNHEALTHY: SlotState
SLOT_STATE_DRAINING: SlotState
SLOT_STATE_FAILED: SlotState
FAULT_STATE_UNSPECIFIED: FaultState
FAULT_STATE_PENDING: FaultState
FAULT_STATE_ACTIVE: FaultState
FAULT_STATE_REVERTED: FaultState
FAULT_STATE_FAILED: FaultState

class Point(_message.Message):
    __slots__ = ("timestamp_ms", "value")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    value: float
    def __init__(self, timestamp_ms: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class Series(_message.Message):
    __slots__ = ("name", "labels", "timestamps_ms", "values")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    timestamps_ms: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., timestamps_ms: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("timestamp_ms", "kind", "severity", "service", "message", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    kind: str
    severity: Severity
    service: str
    message: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, timestamp_ms: _Optional[int] = ..., kind: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., service: _Optional[str] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ProbeSpec(_message.Message):
    __slots__ = ("name", "kind", "interval_ms", "timeout_ms", "success_before_passing", "failures_before_critical", "service", "method", "path", "url", "status_min", "status_max", "body_contains", "body_regex", "headers", "tls_skip_verify", "address", "grpc_service", "command")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_BEFORE_PASSING_FIELD_NUMBER: _ClassVar[int]
    FAILURES_BEFORE_CRITICAL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STATUS_MIN_FIELD_NUMBER: _ClassVar[int]
    STATUS_MAX_FIELD_NUMBER: _ClassVar[int]
    BODY_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    BODY_REGEX_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    TLS_SKIP_VERIFY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    GRPC_SERVICE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ProbeKind
    interval_ms: int
    timeout_ms: int
    success_before_passing: int
    failures_before_critical: int
    service: str
    method: str
    path: str
    url: str
    status_min: int
    status_max: int
    body_contains: str
    body_regex: str
    headers: _containers.ScalarMap[str, str]
    tls_skip_verify: bool
    address: str
    grpc_service: str
    command: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ProbeKind, str]] = ..., interval_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., success_before_passing: _Optional[int] = ..., failures_before_critical: _Optional[int] = ..., service: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., url: _Optional[str] = ..., status_min: _Optional[int] = ..., status_max: _Optional[int] = ..., body_contains: _Optional[str] = ..., body_regex: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., tls_skip_verify: _Optional[bool] = ..., address: _Optional[str] = ..., grpc_service: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ...) -> None: ...

class ProbeResult(_message.Message):
    __slots__ = ("name", "service", "slot", "status", "success", "duration_seconds", "http_status_code", "output", "timestamp_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    service: str
    slot: Slot
    status: ProbeStatus
    success: bool
    duration_seconds: float
    http_status_code: int
    output: str
    timestamp_ms: int
    def __init__(self, name: _Optional[str] = ..., service: _Optional[str] = ..., slot: _Optional[_Union[Slot, str]] = ..., status: _Optional[_Union[ProbeStatus, str]] = ..., success: _Optional[bool] = ..., duration_seconds: _Optional[float] = ..., http_status_code: _Optional[int] = ..., output: _Optional[str] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class ServiceSpec(_message.Message):
    __slots__ = ("name", "driver", "command", "image", "front_port", "blue_port", "green_port", "router", "drain_timeout_ms", "keep_previous", "selector", "env", "probe", "healthy_deadline_ms", "revision", "source_toml")
    class SelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    FRONT_PORT_FIELD_NUMBER: _ClassVar[int]
    BLUE_PORT_FIELD_NUMBER: _ClassVar[int]
    GREEN_PORT_FIELD_NUMBER: _ClassVar[int]
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    DRAIN_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    KEEP_PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TOML_FIELD_NUMBER: _ClassVar[int]
    name: str
    driver: str
    command: _containers.RepeatedScalarFieldContainer[str]
    image: str
    front_port: int
    blue_port: int
    green_port: int
    router: str
    drain_timeout_ms: int
    keep_previous: bool
    selector: _containers.ScalarMap[str, str]
    env: _containers.ScalarMap[str, str]
    probe: ProbeSpec
    healthy_deadline_ms: int
    revision: int
    source_toml: str
    def __init__(self, name: _Optional[str] = ..., driver: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., image: _Optional[str] = ..., front_port: _Optional[int] = ..., blue_port: _Optional[int] = ..., green_port: _Optional[int] = ..., router: _Optional[str] = ..., drain_timeout_ms: _Optional[int] = ..., keep_previous: _Optional[bool] = ..., selector: _Optional[_Mapping[str, str]] = ..., env: _Optional[_Mapping[str, str]] = ..., probe: _Optional[_Union[ProbeSpec, _Mapping]] = ..., healthy_deadline_ms: _Optional[int] = ..., revision: _Optional[int] = ..., source_toml: _Optional[str] = ...) -> None: ...

class SlotStatus(_message.Message):
    __slots__ = ("slot", "state", "version", "port", "pid", "restarts", "rss_bytes", "cpu_seconds", "open_fds", "active_connections")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FDS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    slot: Slot
    state: SlotState
    version: str
    port: int
    pid: int
    restarts: int
    rss_bytes: int
    cpu_seconds: float
    open_fds: int
    active_connections: int
    def __init__(self, slot: _Optional[_Union[Slot, str]] = ..., state: _Optional[_Union[SlotState, str]] = ..., version: _Optional[str] = ..., port: _Optional[int] = ..., pid: _Optional[int] = ..., restarts: _Optional[int] = ..., rss_bytes: _Optional[int] = ..., cpu_seconds: _Optional[float] = ..., open_fds: _Optional[int] = ..., active_connections: _Optional[int] = ...) -> None: ...

class ServiceStatus(_message.Message):
    __slots__ = ("name", "active_slot", "active_version", "previous_version", "slots", "phase", "spec_revision", "candidate_slot", "candidate_version", "candidate_weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SLOT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    SPEC_REVISION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_SLOT_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    active_slot: Slot
    active_version: str
    previous_version: str
    slots: _containers.RepeatedCompositeFieldContainer[SlotStatus]
    phase: str
    spec_revision: int
    candidate_slot: Slot
    candidate_version: str
    candidate_weight: int
    def __init__(self, name: _Optional[str] = ..., active_slot: _Optional[_Union[Slot, str]] = ..., active_version: _Optional[str] = ..., previous_version: _Optional[str] = ..., slots: _Optional[_Iterable[_Union[SlotStatus, _Mapping]]] = ..., phase: _Optional[str] = ..., spec_revision: _Optional[int] = ..., candidate_slot: _Optional[_Union[Slot, str]] = ..., candidate_version: _Optional[str] = ..., candidate_weight: _Optional[int] = ...) -> None: ...

class FaultSpec(_message.Message):
    __slots__ = ("kind", "duration_ms", "service", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    duration_ms: int
    service: str
    params: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[str] = ..., duration_ms: _Optional[int] = ..., service: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Fault(_message.Message):
    __slots__ = ("id", "spec", "state", "applied_at_ms", "expires_at_ms", "reverted_at_ms", "host_id", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REVERTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    spec: FaultSpec
    state: FaultState
    applied_at_ms: int
    expires_at_ms: int
    reverted_at_ms: int
    host_id: str
    error: str
    def __init__(self, id: _Optional[str] = ..., spec: _Optional[_Union[FaultSpec, _Mapping]] = ..., state: _Optional[_Union[FaultState, str]] = ..., applied_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., reverted_at_ms: _Optional[int] = ..., host_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...
