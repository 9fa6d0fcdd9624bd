from switchman.proto.v1 import agent_pb2 as _agent_pb2
from switchman.proto.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HostSummary(_message.Message):
    __slots__ = ("host_id", "hostname", "address", "state", "labels", "last_heartbeat_ms", "registered_at_ms", "agent_version", "capabilities", "cert_days_left")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CERT_DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    hostname: str
    address: str
    state: str
    labels: _containers.ScalarMap[str, str]
    last_heartbeat_ms: int
    registered_at_ms: int
    agent_version: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    cert_days_left: int
    def __init__(self, host_id: _Optional[str] = ..., hostname: _Optional[str] = ..., address: _Optional[str] = ..., state: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., last_heartbeat_ms: _Optional[int] = ..., registered_at_ms: _Optional[int] = ..., agent_version: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., cert_days_left: _Optional[int] = ...) -> None: ...

class ListHostsRequest(_message.Message):
    __slots__ = ("selector", "state")
    class SelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    selector: _containers.ScalarMap[str, str]
    state: str
    def __init__(self, selector: _Optional[_Mapping[str, str]] = ..., state: _Optional[str] = ...) -> None: ...

class ListHostsResponse(_message.Message):
    __slots__ = ("hosts",)
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    hosts: _containers.RepeatedCompositeFieldContainer[HostSummary]
    def __init__(self, hosts: _Optional[_Iterable[_Union[HostSummary, _Mapping]]] = ...) -> None: ...

class GetHostRequest(_message.Message):
    __slots__ = ("host_id",)
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    def __init__(self, host_id: _Optional[str] = ...) -> None: ...

class HostDetail(_message.Message):
    __slots__ = ("host", "series_count", "last_push_ms", "acked_sequence", "spool_epoch", "vitals", "services", "faults")
    class VitalsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    HOST_FIELD_NUMBER: _ClassVar[int]
    SERIES_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_PUSH_MS_FIELD_NUMBER: _ClassVar[int]
    ACKED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SPOOL_EPOCH_FIELD_NUMBER: _ClassVar[int]
    VITALS_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    host: HostSummary
    series_count: int
    last_push_ms: int
    acked_sequence: int
    spool_epoch: str
    vitals: _containers.ScalarMap[str, float]
    services: _containers.RepeatedCompositeFieldContainer[_common_pb2.ServiceStatus]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    def __init__(self, host: _Optional[_Union[HostSummary, _Mapping]] = ..., series_count: _Optional[int] = ..., last_push_ms: _Optional[int] = ..., acked_sequence: _Optional[int] = ..., spool_epoch: _Optional[str] = ..., vitals: _Optional[_Mapping[str, float]] = ..., services: _Optional[_Iterable[_Union[_common_pb2.ServiceStatus, _Mapping]]] = ..., faults: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ...) -> None: ...

class CountByKey(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class FleetStatus(_message.Message):
    __slots__ = ("server_time_ms", "hosts_total", "hosts_up", "hosts_down", "down_hosts", "firing_alerts", "open_incidents", "slos", "active_rollouts", "active_faults", "controller_version", "controller_health", "series_total", "samples_total", "ingest_samples_per_s", "db_bytes", "features")
    SERVER_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    HOSTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    HOSTS_UP_FIELD_NUMBER: _ClassVar[int]
    HOSTS_DOWN_FIELD_NUMBER: _ClassVar[int]
    DOWN_HOSTS_FIELD_NUMBER: _ClassVar[int]
    FIRING_ALERTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    SLOS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ROLLOUTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FAULTS_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTROLLER_HEALTH_FIELD_NUMBER: _ClassVar[int]
    SERIES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    INGEST_SAMPLES_PER_S_FIELD_NUMBER: _ClassVar[int]
    DB_BYTES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    server_time_ms: int
    hosts_total: int
    hosts_up: int
    hosts_down: int
    down_hosts: _containers.RepeatedCompositeFieldContainer[HostSummary]
    firing_alerts: _containers.RepeatedCompositeFieldContainer[CountByKey]
    open_incidents: _containers.RepeatedCompositeFieldContainer[CountByKey]
    slos: _containers.RepeatedCompositeFieldContainer[SLOSummary]
    active_rollouts: _containers.RepeatedCompositeFieldContainer[Rollout]
    active_faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    controller_version: str
    controller_health: str
    series_total: int
    samples_total: int
    ingest_samples_per_s: float
    db_bytes: int
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, server_time_ms: _Optional[int] = ..., hosts_total: _Optional[int] = ..., hosts_up: _Optional[int] = ..., hosts_down: _Optional[int] = ..., down_hosts: _Optional[_Iterable[_Union[HostSummary, _Mapping]]] = ..., firing_alerts: _Optional[_Iterable[_Union[CountByKey, _Mapping]]] = ..., open_incidents: _Optional[_Iterable[_Union[CountByKey, _Mapping]]] = ..., slos: _Optional[_Iterable[_Union[SLOSummary, _Mapping]]] = ..., active_rollouts: _Optional[_Iterable[_Union[Rollout, _Mapping]]] = ..., active_faults: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ..., controller_version: _Optional[str] = ..., controller_health: _Optional[str] = ..., series_total: _Optional[int] = ..., samples_total: _Optional[int] = ..., ingest_samples_per_s: _Optional[float] = ..., db_bytes: _Optional[int] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("expr", "time_ms")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    expr: str
    time_ms: int
    def __init__(self, expr: _Optional[str] = ..., time_ms: _Optional[int] = ...) -> None: ...

class QueryRangeRequest(_message.Message):
    __slots__ = ("expr", "start_ms", "end_ms", "step_ms")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    STEP_MS_FIELD_NUMBER: _ClassVar[int]
    expr: str
    start_ms: int
    end_ms: int
    step_ms: int
    def __init__(self, expr: _Optional[str] = ..., start_ms: _Optional[int] = ..., end_ms: _Optional[int] = ..., step_ms: _Optional[int] = ...) -> None: ...

class SeriesResult(_message.Message):
    __slots__ = ("metric", "points")
    class MetricEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METRIC_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    metric: _containers.ScalarMap[str, str]
    points: _containers.RepeatedCompositeFieldContainer[_common_pb2.Point]
    def __init__(self, metric: _Optional[_Mapping[str, str]] = ..., points: _Optional[_Iterable[_Union[_common_pb2.Point, _Mapping]]] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("result_type", "result", "scalar", "string_value", "warnings")
    RESULT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    result_type: str
    result: _containers.RepeatedCompositeFieldContainer[SeriesResult]
    scalar: _common_pb2.Point
    string_value: str
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, result_type: _Optional[str] = ..., result: _Optional[_Iterable[_Union[SeriesResult, _Mapping]]] = ..., scalar: _Optional[_Union[_common_pb2.Point, _Mapping]] = ..., string_value: _Optional[str] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("labels", "annotations", "state", "active_at_ms", "value", "fingerprint", "silenced", "inhibited", "fired_at_ms", "resolved_at_ms")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_AT_MS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SILENCED_FIELD_NUMBER: _ClassVar[int]
    INHIBITED_FIELD_NUMBER: _ClassVar[int]
    FIRED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    state: str
    active_at_ms: int
    value: float
    fingerprint: str
    silenced: bool
    inhibited: bool
    fired_at_ms: int
    resolved_at_ms: int
    def __init__(self, labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., state: _Optional[str] = ..., active_at_ms: _Optional[int] = ..., value: _Optional[float] = ..., fingerprint: _Optional[str] = ..., silenced: _Optional[bool] = ..., inhibited: _Optional[bool] = ..., fired_at_ms: _Optional[int] = ..., resolved_at_ms: _Optional[int] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("state", "matchers")
    class MatchersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATE_FIELD_NUMBER: _ClassVar[int]
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    state: str
    matchers: _containers.ScalarMap[str, str]
    def __init__(self, state: _Optional[str] = ..., matchers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class Rule(_message.Message):
    __slots__ = ("group", "name", "kind", "expr", "for_ms", "health", "last_error", "last_evaluation_ms", "evaluation_seconds", "file")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    FOR_MS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_EVALUATION_MS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    group: str
    name: str
    kind: str
    expr: str
    for_ms: int
    health: str
    last_error: str
    last_evaluation_ms: int
    evaluation_seconds: float
    file: str
    def __init__(self, group: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., expr: _Optional[str] = ..., for_ms: _Optional[int] = ..., health: _Optional[str] = ..., last_error: _Optional[str] = ..., last_evaluation_ms: _Optional[int] = ..., evaluation_seconds: _Optional[float] = ..., file: _Optional[str] = ...) -> None: ...

class ListRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    def __init__(self, rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ...) -> None: ...

class Matcher(_message.Message):
    __slots__ = ("name", "op", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    op: str
    value: str
    def __init__(self, name: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Silence(_message.Message):
    __slots__ = ("id", "matchers", "starts_at_ms", "ends_at_ms", "created_by", "comment", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    matchers: _containers.RepeatedCompositeFieldContainer[Matcher]
    starts_at_ms: int
    ends_at_ms: int
    created_by: str
    comment: str
    state: str
    def __init__(self, id: _Optional[str] = ..., matchers: _Optional[_Iterable[_Union[Matcher, _Mapping]]] = ..., starts_at_ms: _Optional[int] = ..., ends_at_ms: _Optional[int] = ..., created_by: _Optional[str] = ..., comment: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class AddSilenceRequest(_message.Message):
    __slots__ = ("matchers", "starts_at_ms", "ends_at_ms", "comment", "author")
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    matchers: _containers.RepeatedCompositeFieldContainer[Matcher]
    starts_at_ms: int
    ends_at_ms: int
    comment: str
    author: str
    def __init__(self, matchers: _Optional[_Iterable[_Union[Matcher, _Mapping]]] = ..., starts_at_ms: _Optional[int] = ..., ends_at_ms: _Optional[int] = ..., comment: _Optional[str] = ..., author: _Optional[str] = ...) -> None: ...

class ListSilencesRequest(_message.Message):
    __slots__ = ("include_expired",)
    INCLUDE_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    include_expired: bool
    def __init__(self, include_expired: _Optional[bool] = ...) -> None: ...

class ListSilencesResponse(_message.Message):
    __slots__ = ("silences",)
    SILENCES_FIELD_NUMBER: _ClassVar[int]
    silences: _containers.RepeatedCompositeFieldContainer[Silence]
    def __init__(self, silences: _Optional[_Iterable[_Union[Silence, _Mapping]]] = ...) -> None: ...

class ExpireSilenceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("timestamp_ms", "kind", "actor", "message", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    kind: str
    actor: str
    message: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, timestamp_ms: _Optional[int] = ..., kind: _Optional[str] = ..., actor: _Optional[str] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("id", "priority", "state", "title", "dedup_key", "service", "host_id", "opened_at_ms", "acknowledged_at_ms", "resolved_at_ms", "closed_at_ms", "acknowledged_by", "timeline", "alerts", "manual_resolve")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DEDUP_KEY_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    MANUAL_RESOLVE_FIELD_NUMBER: _ClassVar[int]
    id: int
    priority: str
    state: str
    title: str
    dedup_key: str
    service: str
    host_id: str
    opened_at_ms: int
    acknowledged_at_ms: int
    resolved_at_ms: int
    closed_at_ms: int
    acknowledged_by: str
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    manual_resolve: bool
    def __init__(self, id: _Optional[int] = ..., priority: _Optional[str] = ..., state: _Optional[str] = ..., title: _Optional[str] = ..., dedup_key: _Optional[str] = ..., service: _Optional[str] = ..., host_id: _Optional[str] = ..., opened_at_ms: _Optional[int] = ..., acknowledged_at_ms: _Optional[int] = ..., resolved_at_ms: _Optional[int] = ..., closed_at_ms: _Optional[int] = ..., acknowledged_by: _Optional[str] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., manual_resolve: _Optional[bool] = ...) -> None: ...

class ListIncidentsRequest(_message.Message):
    __slots__ = ("state", "all")
    STATE_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    state: str
    all: bool
    def __init__(self, state: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class ListIncidentsResponse(_message.Message):
    __slots__ = ("incidents",)
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    def __init__(self, incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ...) -> None: ...

class GetIncidentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class IncidentActionRequest(_message.Message):
    __slots__ = ("id", "note", "manual")
    ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    id: int
    note: str
    manual: bool
    def __init__(self, id: _Optional[int] = ..., note: _Optional[str] = ..., manual: _Optional[bool] = ...) -> None: ...

class IncidentReportRequest(_message.Message):
    __slots__ = ("since_ms",)
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    since_ms: int
    def __init__(self, since_ms: _Optional[int] = ...) -> None: ...

class MttStat(_message.Message):
    __slots__ = ("key", "incidents", "mtta_seconds", "mttr_seconds", "acknowledged", "resolved")
    KEY_FIELD_NUMBER: _ClassVar[int]
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    MTTA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MTTR_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    key: str
    incidents: int
    mtta_seconds: float
    mttr_seconds: float
    acknowledged: int
    resolved: int
    def __init__(self, key: _Optional[str] = ..., incidents: _Optional[int] = ..., mtta_seconds: _Optional[float] = ..., mttr_seconds: _Optional[float] = ..., acknowledged: _Optional[int] = ..., resolved: _Optional[int] = ...) -> None: ...

class IncidentReportResponse(_message.Message):
    __slots__ = ("by_priority", "by_service")
    BY_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    by_priority: _containers.RepeatedCompositeFieldContainer[MttStat]
    by_service: _containers.RepeatedCompositeFieldContainer[MttStat]
    def __init__(self, by_priority: _Optional[_Iterable[_Union[MttStat, _Mapping]]] = ..., by_service: _Optional[_Iterable[_Union[MttStat, _Mapping]]] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("format", "content")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    format: str
    content: str
    def __init__(self, format: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class SLOWindow(_message.Message):
    __slots__ = ("window", "error_ratio", "burn_rate", "events", "insufficient_data")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATIO_FIELD_NUMBER: _ClassVar[int]
    BURN_RATE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    INSUFFICIENT_DATA_FIELD_NUMBER: _ClassVar[int]
    window: str
    error_ratio: float
    burn_rate: float
    events: int
    insufficient_data: bool
    def __init__(self, window: _Optional[str] = ..., error_ratio: _Optional[float] = ..., burn_rate: _Optional[float] = ..., events: _Optional[int] = ..., insufficient_data: _Optional[bool] = ...) -> None: ...

class SLOSummary(_message.Message):
    __slots__ = ("service", "name", "objective", "attained", "budget_remaining", "insufficient_data", "windows", "period")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    ATTAINED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_FIELD_NUMBER: _ClassVar[int]
    INSUFFICIENT_DATA_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    service: str
    name: str
    objective: float
    attained: float
    budget_remaining: float
    insufficient_data: bool
    windows: _containers.RepeatedCompositeFieldContainer[SLOWindow]
    period: str
    def __init__(self, service: _Optional[str] = ..., name: _Optional[str] = ..., objective: _Optional[float] = ..., attained: _Optional[float] = ..., budget_remaining: _Optional[float] = ..., insufficient_data: _Optional[bool] = ..., windows: _Optional[_Iterable[_Union[SLOWindow, _Mapping]]] = ..., period: _Optional[str] = ...) -> None: ...

class SLOViolation(_message.Message):
    __slots__ = ("start_ms", "end_ms", "duration_seconds", "alert")
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    start_ms: int
    end_ms: int
    duration_seconds: float
    alert: str
    def __init__(self, start_ms: _Optional[int] = ..., end_ms: _Optional[int] = ..., duration_seconds: _Optional[float] = ..., alert: _Optional[str] = ...) -> None: ...

class ListSLOsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSLOsResponse(_message.Message):
    __slots__ = ("slos",)
    SLOS_FIELD_NUMBER: _ClassVar[int]
    slos: _containers.RepeatedCompositeFieldContainer[SLOSummary]
    def __init__(self, slos: _Optional[_Iterable[_Union[SLOSummary, _Mapping]]] = ...) -> None: ...

class SLOReportRequest(_message.Message):
    __slots__ = ("period", "service")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    period: str
    service: str
    def __init__(self, period: _Optional[str] = ..., service: _Optional[str] = ...) -> None: ...

class SLOReportEntry(_message.Message):
    __slots__ = ("slo", "worst_windows", "violations")
    SLO_FIELD_NUMBER: _ClassVar[int]
    WORST_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    slo: SLOSummary
    worst_windows: _containers.RepeatedCompositeFieldContainer[SLOWindow]
    violations: _containers.RepeatedCompositeFieldContainer[SLOViolation]
    def __init__(self, slo: _Optional[_Union[SLOSummary, _Mapping]] = ..., worst_windows: _Optional[_Iterable[_Union[SLOWindow, _Mapping]]] = ..., violations: _Optional[_Iterable[_Union[SLOViolation, _Mapping]]] = ...) -> None: ...

class SLOReportResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[SLOReportEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[SLOReportEntry, _Mapping]]] = ...) -> None: ...

class ApplyServiceRequest(_message.Message):
    __slots__ = ("source_toml", "file_name")
    SOURCE_TOML_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    source_toml: str
    file_name: str
    def __init__(self, source_toml: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class GetServiceRequest(_message.Message):
    __slots__ = ("name", "history")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    name: str
    history: bool
    def __init__(self, name: _Optional[str] = ..., history: _Optional[bool] = ...) -> None: ...

class GetServiceResponse(_message.Message):
    __slots__ = ("spec", "history", "hosts")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    spec: _common_pb2.ServiceSpec
    history: _containers.RepeatedCompositeFieldContainer[_common_pb2.ServiceSpec]
    hosts: _containers.RepeatedCompositeFieldContainer[HostServiceStatus]
    def __init__(self, spec: _Optional[_Union[_common_pb2.ServiceSpec, _Mapping]] = ..., history: _Optional[_Iterable[_Union[_common_pb2.ServiceSpec, _Mapping]]] = ..., hosts: _Optional[_Iterable[_Union[HostServiceStatus, _Mapping]]] = ...) -> None: ...

class HostServiceStatus(_message.Message):
    __slots__ = ("host_id", "status")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    status: _common_pb2.ServiceStatus
    def __init__(self, host_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ServiceStatus, _Mapping]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[_common_pb2.ServiceSpec]
    def __init__(self, services: _Optional[_Iterable[_Union[_common_pb2.ServiceSpec, _Mapping]]] = ...) -> None: ...

class OpsStopServiceRequest(_message.Message):
    __slots__ = ("name", "host_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    host_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., host_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveServiceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class StopServiceResponse(_message.Message):
    __slots__ = ("hosts",)
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    hosts: _containers.RepeatedCompositeFieldContainer[HostStopResult]
    def __init__(self, hosts: _Optional[_Iterable[_Union[HostStopResult, _Mapping]]] = ...) -> None: ...

class HostStopResult(_message.Message):
    __slots__ = ("host_id", "outcome", "message")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    outcome: str
    message: str
    def __init__(self, host_id: _Optional[str] = ..., outcome: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SwitchHostRequest(_message.Message):
    __slots__ = ("service", "host_id", "version", "rollback")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_FIELD_NUMBER: _ClassVar[int]
    service: str
    host_id: str
    version: str
    rollback: bool
    def __init__(self, service: _Optional[str] = ..., host_id: _Optional[str] = ..., version: _Optional[str] = ..., rollback: _Optional[bool] = ...) -> None: ...

class SwitchHostResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _agent_pb2.SwitchResponse
    def __init__(self, result: _Optional[_Union[_agent_pb2.SwitchResponse, _Mapping]] = ...) -> None: ...

class RolloutOptions(_message.Message):
    __slots__ = ("strategy", "selector", "max_parallel", "canary", "min_healthy_ms", "healthy_deadline_ms", "progress_deadline_ms", "bake_ms", "analysis", "manual", "auto_rollback", "require_all", "force", "steps", "max_error_rate", "max_latency_regression", "min_requests")
    class SelectorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_FIELD_NUMBER: _ClassVar[int]
    CANARY_FIELD_NUMBER: _ClassVar[int]
    MIN_HEALTHY_MS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    BAKE_MS_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    AUTO_ROLLBACK_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_ALL_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_REGRESSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    selector: _containers.ScalarMap[str, str]
    max_parallel: int
    canary: int
    min_healthy_ms: int
    healthy_deadline_ms: int
    progress_deadline_ms: int
    bake_ms: int
    analysis: _containers.RepeatedScalarFieldContainer[str]
    manual: bool
    auto_rollback: bool
    require_all: bool
    force: bool
    steps: _containers.RepeatedScalarFieldContainer[int]
    max_error_rate: float
    max_latency_regression: float
    min_requests: int
    def __init__(self, strategy: _Optional[str] = ..., selector: _Optional[_Mapping[str, str]] = ..., max_parallel: _Optional[int] = ..., canary: _Optional[int] = ..., min_healthy_ms: _Optional[int] = ..., healthy_deadline_ms: _Optional[int] = ..., progress_deadline_ms: _Optional[int] = ..., bake_ms: _Optional[int] = ..., analysis: _Optional[_Iterable[str]] = ..., manual: _Optional[bool] = ..., auto_rollback: _Optional[bool] = ..., require_all: _Optional[bool] = ..., force: _Optional[bool] = ..., steps: _Optional[_Iterable[int]] = ..., max_error_rate: _Optional[float] = ..., max_latency_regression: _Optional[float] = ..., min_requests: _Optional[int] = ...) -> None: ...

class RolloutHost(_message.Message):
    __slots__ = ("host_id", "state", "batch", "message", "from_version", "updated_at_ms", "weight")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    state: str
    batch: int
    message: str
    from_version: str
    updated_at_ms: int
    weight: int
    def __init__(self, host_id: _Optional[str] = ..., state: _Optional[str] = ..., batch: _Optional[int] = ..., message: _Optional[str] = ..., from_version: _Optional[str] = ..., updated_at_ms: _Optional[int] = ..., weight: _Optional[int] = ...) -> None: ...

class AnalysisValue(_message.Message):
    __slots__ = ("name", "expr", "verdict", "value", "evaluated_at_ms", "threshold", "baseline", "requests", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    expr: str
    verdict: str
    value: float
    evaluated_at_ms: int
    threshold: float
    baseline: float
    requests: float
    detail: str
    def __init__(self, name: _Optional[str] = ..., expr: _Optional[str] = ..., verdict: _Optional[str] = ..., value: _Optional[float] = ..., evaluated_at_ms: _Optional[int] = ..., threshold: _Optional[float] = ..., baseline: _Optional[float] = ..., requests: _Optional[float] = ..., detail: _Optional[str] = ...) -> None: ...

class RolloutStep(_message.Message):
    __slots__ = ("batch", "index", "weight", "verdict", "started_at_ms", "ended_at_ms", "analysis")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    batch: int
    index: int
    weight: int
    verdict: str
    started_at_ms: int
    ended_at_ms: int
    analysis: _containers.RepeatedCompositeFieldContainer[AnalysisValue]
    def __init__(self, batch: _Optional[int] = ..., index: _Optional[int] = ..., weight: _Optional[int] = ..., verdict: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., ended_at_ms: _Optional[int] = ..., analysis: _Optional[_Iterable[_Union[AnalysisValue, _Mapping]]] = ...) -> None: ...

class Rollout(_message.Message):
    __slots__ = ("id", "service", "version", "from_version", "state", "options", "hosts", "batches", "current_batch", "analysis", "created_at_ms", "updated_at_ms", "finished_at_ms", "message", "created_by", "step", "steps")
    ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_BATCH_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    id: int
    service: str
    version: str
    from_version: str
    state: str
    options: RolloutOptions
    hosts: _containers.RepeatedCompositeFieldContainer[RolloutHost]
    batches: int
    current_batch: int
    analysis: _containers.RepeatedCompositeFieldContainer[AnalysisValue]
    created_at_ms: int
    updated_at_ms: int
    finished_at_ms: int
    message: str
    created_by: str
    step: int
    steps: _containers.RepeatedCompositeFieldContainer[RolloutStep]
    def __init__(self, id: _Optional[int] = ..., service: _Optional[str] = ..., version: _Optional[str] = ..., from_version: _Optional[str] = ..., state: _Optional[str] = ..., options: _Optional[_Union[RolloutOptions, _Mapping]] = ..., hosts: _Optional[_Iterable[_Union[RolloutHost, _Mapping]]] = ..., batches: _Optional[int] = ..., current_batch: _Optional[int] = ..., analysis: _Optional[_Iterable[_Union[AnalysisValue, _Mapping]]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., finished_at_ms: _Optional[int] = ..., message: _Optional[str] = ..., created_by: _Optional[str] = ..., step: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[RolloutStep, _Mapping]]] = ...) -> None: ...

class StartRolloutRequest(_message.Message):
    __slots__ = ("service", "version", "options")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    service: str
    version: str
    options: RolloutOptions
    def __init__(self, service: _Optional[str] = ..., version: _Optional[str] = ..., options: _Optional[_Union[RolloutOptions, _Mapping]] = ...) -> None: ...

class GetRolloutRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListRolloutsRequest(_message.Message):
    __slots__ = ("service", "active_only", "limit")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    service: str
    active_only: bool
    limit: int
    def __init__(self, service: _Optional[str] = ..., active_only: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRolloutsResponse(_message.Message):
    __slots__ = ("rollouts",)
    ROLLOUTS_FIELD_NUMBER: _ClassVar[int]
    rollouts: _containers.RepeatedCompositeFieldContainer[Rollout]
    def __init__(self, rollouts: _Optional[_Iterable[_Union[Rollout, _Mapping]]] = ...) -> None: ...

class RolloutActionRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: int
    reason: str
    def __init__(self, id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class RollbackServiceRequest(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: str
    def __init__(self, service: _Optional[str] = ...) -> None: ...

class OpsInjectFaultRequest(_message.Message):
    __slots__ = ("host_id", "spec", "force")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    spec: _common_pb2.FaultSpec
    force: bool
    def __init__(self, host_id: _Optional[str] = ..., spec: _Optional[_Union[_common_pb2.FaultSpec, _Mapping]] = ..., force: _Optional[bool] = ...) -> None: ...

class OpsListFaultsRequest(_message.Message):
    __slots__ = ("host_id", "include_reverted")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVERTED_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    include_reverted: bool
    def __init__(self, host_id: _Optional[str] = ..., include_reverted: _Optional[bool] = ...) -> None: ...

class OpsListFaultsResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    def __init__(self, faults: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ...) -> None: ...

class OpsHaltFaultsRequest(_message.Message):
    __slots__ = ("host_id", "all")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    all: bool
    def __init__(self, host_id: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class DrillProbe(_message.Message):
    __slots__ = ("name", "expr", "before", "during", "after", "held_before", "held_during", "held_after")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    DURING_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    HELD_BEFORE_FIELD_NUMBER: _ClassVar[int]
    HELD_DURING_FIELD_NUMBER: _ClassVar[int]
    HELD_AFTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    expr: str
    before: float
    during: float
    after: float
    held_before: bool
    held_during: bool
    held_after: bool
    def __init__(self, name: _Optional[str] = ..., expr: _Optional[str] = ..., before: _Optional[float] = ..., during: _Optional[float] = ..., after: _Optional[float] = ..., held_before: _Optional[bool] = ..., held_during: _Optional[bool] = ..., held_after: _Optional[bool] = ...) -> None: ...

class Drill(_message.Message):
    __slots__ = ("id", "title", "state", "targets", "faults", "probes", "started_at_ms", "finished_at_ms", "time_to_detect_seconds", "time_to_recover_seconds", "reason", "dry_run", "source_yaml")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_DETECT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RECOVER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_YAML_FIELD_NUMBER: _ClassVar[int]
    id: int
    title: str
    state: str
    targets: _containers.RepeatedScalarFieldContainer[str]
    faults: _containers.RepeatedCompositeFieldContainer[_common_pb2.Fault]
    probes: _containers.RepeatedCompositeFieldContainer[DrillProbe]
    started_at_ms: int
    finished_at_ms: int
    time_to_detect_seconds: float
    time_to_recover_seconds: float
    reason: str
    dry_run: bool
    source_yaml: str
    def __init__(self, id: _Optional[int] = ..., title: _Optional[str] = ..., state: _Optional[str] = ..., targets: _Optional[_Iterable[str]] = ..., faults: _Optional[_Iterable[_Union[_common_pb2.Fault, _Mapping]]] = ..., probes: _Optional[_Iterable[_Union[DrillProbe, _Mapping]]] = ..., started_at_ms: _Optional[int] = ..., finished_at_ms: _Optional[int] = ..., time_to_detect_seconds: _Optional[float] = ..., time_to_recover_seconds: _Optional[float] = ..., reason: _Optional[str] = ..., dry_run: _Optional[bool] = ..., source_yaml: _Optional[str] = ...) -> None: ...

class RunDrillRequest(_message.Message):
    __slots__ = ("source_yaml", "file_name", "force", "dry_run")
    SOURCE_YAML_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    source_yaml: str
    file_name: str
    force: bool
    dry_run: bool
    def __init__(self, source_yaml: _Optional[str] = ..., file_name: _Optional[str] = ..., force: _Optional[bool] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ListDrillsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListDrillsResponse(_message.Message):
    __slots__ = ("drills",)
    DRILLS_FIELD_NUMBER: _ClassVar[int]
    drills: _containers.RepeatedCompositeFieldContainer[Drill]
    def __init__(self, drills: _Optional[_Iterable[_Union[Drill, _Mapping]]] = ...) -> None: ...

class GetDrillRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DrillReportRequest(_message.Message):
    __slots__ = ("id", "format")
    ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    id: int
    format: str
    def __init__(self, id: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("id", "timestamp_ms", "actor", "action", "target", "arguments", "result", "hash")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    id: int
    timestamp_ms: int
    actor: str
    action: str
    target: str
    arguments: str
    result: str
    hash: str
    def __init__(self, id: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., arguments: _Optional[str] = ..., result: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("since_ms", "actor", "limit")
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    since_ms: int
    actor: str
    limit: int
    def __init__(self, since_ms: _Optional[int] = ..., actor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...

class VerifyAuditRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditResponse(_message.Message):
    __slots__ = ("ok", "entries", "first_bad_id", "message")
    OK_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    entries: int
    first_bad_id: int
    message: str
    def __init__(self, ok: _Optional[bool] = ..., entries: _Optional[int] = ..., first_bad_id: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("name", "role", "created_at_ms", "last_used_ms", "revoked")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_MS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    created_at_ms: int
    last_used_ms: int
    revoked: bool
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., last_used_ms: _Optional[int] = ..., revoked: _Optional[bool] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("name", "role")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    token: Token
    secret: str
    def __init__(self, token: _Optional[_Union[Token, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[Token]
    def __init__(self, tokens: _Optional[_Iterable[_Union[Token, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class BackupRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BackupChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...
