"""`service apply` refuses a spec whose ports another service already binds
on the same hosts, naming that service."""

from __future__ import annotations

from switchman.controller.fleet import Host
from switchman.controller.services import port_clash
from switchman.proto.services import ServiceDef, parse_toml


def spec(name: str, front: int, blue: int, green: int, selector: str = 'role = "web"') -> ServiceDef:
    return parse_toml(
        f'name = "{name}"\ncommand = ["/bin/true"]\nfront_port = {front}\n'
        f"back_ports = {{ blue = {blue}, green = {green} }}\nselector = {{ {selector} }}\n",
        f"{name}.toml",
    )


def host(labels: dict[str, str]) -> Host:
    return Host("h1", "h1", "127.0.0.2:7100", labels, "1", [], 0, 0)


def test_a_port_of_a_service_on_the_same_selector_is_refused_with_the_service_named() -> None:
    hello = spec("hello", 18080, 18081, 18082)
    why = port_clash(spec("other", 19080, 18081, 19082), [hello], [])
    assert "its blue port 18081 is the blue port of service hello" in why
    assert "front port 18082" in port_clash(spec("x", 18082, 19081, 19082), [hello], [])


def test_services_on_disjoint_hosts_may_share_ports() -> None:
    hello = spec("hello", 18080, 18081, 18082)
    assert port_clash(spec("db", 18080, 18081, 18082, 'role = "db"'), [hello], []) == ""
    # different label keys: only a clash when some host carries both labels
    api = spec("api", 18080, 18091, 18092, 'tier = "api"')
    assert port_clash(api, [hello], [host({"role": "db", "tier": "api"})]) == ""
    assert "service hello" in port_clash(api, [hello], [host({"role": "web", "tier": "api"})])


def test_an_empty_selector_shares_every_host_and_a_service_never_clashes_with_itself() -> None:
    hello = spec("hello", 18080, 18081, 18082)
    assert "service hello" in port_clash(spec("all", 18080, 1, 2, ""), [hello], [])
    assert port_clash(spec("hello", 18080, 18081, 18083), [hello], []) == ""
