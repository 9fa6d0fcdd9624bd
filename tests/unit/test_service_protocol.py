"""The service spec's ``protocol`` key: tcp by default, http on request, and
a bad value refused with the field named."""

from __future__ import annotations

import pytest
from switchman.proto.services import SpecError, parse_toml

BASE = 'name = "web"\ncommand = ["/bin/true"]\nfront_port = 18080\nback_ports = { blue = 18081, green = 18082 }\n'


def test_protocol_defaults_to_tcp_and_takes_http() -> None:
    assert parse_toml(BASE).protocol == "tcp"
    assert parse_toml(BASE + 'protocol = "http"\n').protocol == "http"


def test_haproxy_services_stay_in_http_mode_unless_they_say_tcp() -> None:
    assert parse_toml(BASE + 'router = "haproxy"\n').protocol == "http"  # what HAProxy always ran
    assert parse_toml(BASE + 'router = "haproxy"\nprotocol = "tcp"\n').protocol == "tcp"


@pytest.mark.parametrize("value", ['"https"', '"HTTP"', "1", '["http"]'])
def test_a_bad_protocol_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(SpecError, match=r"web.toml: protocol: .* is not one of tcp, http"):
        parse_toml(BASE + f"protocol = {value}\n", "web.toml")
