"""Random payloads on every RPC method of the controller: the daemon keeps
serving, answers with a status code, and loses nothing it had stored."""

from __future__ import annotations

import random
from pathlib import Path

import grpc
from google.protobuf import descriptor as pbd
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from switchman.proto.v1 import controller_pb2, ops_pb2

from tests.integration.test_controller_rpc import Running, push_req, register_req, run

# codes a well-formed request may get; INTERNAL or UNKNOWN would be a bug in a handler
EXPECTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
NASTY = [
    "",
    "../../etc/passwd",
    "a/b",
    "\x00\x01\x1b[31m",
    "x" * 5000,
    "é✓🙂",
    "web-1",
    "h1",
    "up{",
    "1h",
    "-5s",
    "10y",
]


def random_message(cls: type[Message], rng: random.Random, depth: int = 0) -> Message:
    msg = cls()
    for f in cls.DESCRIPTOR.fields:
        if rng.random() < 0.4:
            continue
        repeated = f.is_repeated
        if f.type == pbd.FieldDescriptor.TYPE_MESSAGE:
            if depth > 2:
                continue
            sub = GetMessageClass(f.message_type)
            if f.message_type.GetOptions().map_entry:
                container = getattr(msg, f.name)
                for _ in range(rng.randint(0, 3)):
                    key = rng.choice(NASTY)
                    value_field = f.message_type.fields_by_name["value"]
                    if value_field.type == pbd.FieldDescriptor.TYPE_STRING:
                        container[key] = rng.choice(NASTY)
                    elif value_field.type == pbd.FieldDescriptor.TYPE_DOUBLE:
                        container[key] = rng.uniform(-1e300, 1e300)
                continue
            if repeated:
                for _ in range(rng.randint(0, 3)):
                    getattr(msg, f.name).append(random_message(sub, rng, depth + 1))
            else:
                getattr(msg, f.name).CopyFrom(random_message(sub, rng, depth + 1))
            continue
        value = scalar(f, rng)
        if repeated:
            getattr(msg, f.name).extend([value, scalar(f, rng)])
        else:
            setattr(msg, f.name, value)
    return msg


def scalar(f: pbd.FieldDescriptor, rng: random.Random) -> object:
    t = f.type
    if t == pbd.FieldDescriptor.TYPE_STRING:
        return rng.choice(NASTY)
    if t == pbd.FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 64))
    if t == pbd.FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if t in (pbd.FieldDescriptor.TYPE_DOUBLE, pbd.FieldDescriptor.TYPE_FLOAT):
        return rng.choice([0.0, -1.0, 1e308, float("inf"), float("nan"), rng.uniform(-1e9, 1e9)])
    if t == pbd.FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in f.enum_type.values] + [99])
    if t in (pbd.FieldDescriptor.TYPE_UINT32, pbd.FieldDescriptor.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1, rng.randint(0, 1000)])
    if t in (pbd.FieldDescriptor.TYPE_UINT64, pbd.FieldDescriptor.TYPE_FIXED64):
        return rng.choice([0, 1, 2**64 - 1, rng.randint(0, 10**6)])
    if t in (pbd.FieldDescriptor.TYPE_INT32, pbd.FieldDescriptor.TYPE_SINT32, pbd.FieldDescriptor.TYPE_SFIXED32):
        return rng.choice([0, -1, 2**31 - 1, -(2**31)])
    return rng.choice([0, -1, 2**63 - 1, -(2**63), rng.randint(-(10**13), 10**13)])


def test_random_payloads_on_every_method_leave_the_controller_serving(tmp_path: Path) -> None:
    rng = random.Random(20261123)  # seeded: a failure reproduces

    async def body(c: Running) -> None:
        await c.agents.Register(register_req(), timeout=5)
        now = c.core.clock_ms()
        await c.agents.PushTelemetry(push_req(1, now - 1000, 0.75), timeout=5)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{c.port}")
        surprises: list[str] = []
        for module in (controller_pb2, ops_pb2):
            for service in module.DESCRIPTOR.services_by_name.values():
                for method in service.methods:
                    path = f"/{service.full_name}/{method.name}"
                    request_cls = GetMessageClass(method.input_type)
                    stream = method.server_streaming
                    for i in range(40):
                        payload = (
                            rng.randbytes(rng.randint(0, 3000))
                            if i % 4 == 0
                            else random_message(request_cls, rng).SerializeToString()
                        )
                        call = (channel.unary_stream if stream else channel.unary_unary)(
                            path, request_serializer=None, response_deserializer=None
                        )
                        try:
                            result = call(payload, metadata=c.admin, timeout=5)
                            if stream:
                                async for _ in result:
                                    pass
                            else:
                                await result
                        except grpc.aio.AioRpcError as exc:
                            if i % 4 != 0 and exc.code() not in EXPECTED:
                                surprises.append(f"{path}: {exc.code().name}: {exc.details()}")
        await channel.close(None)
        assert not surprises, "\n".join(surprises[:20])
        # still serving, nothing lost
        q = await c.ops.Query(ops_pb2.QueryRequest(expr='node_load1{host="h1"}'), metadata=c.admin, timeout=5)
        assert [s.points[0].value for s in q.result] == [0.75]
        v = await c.ops.VerifyAudit(ops_pb2.VerifyAuditRequest(), metadata=c.admin, timeout=5)
        assert v.ok

    run(tmp_path, body)
