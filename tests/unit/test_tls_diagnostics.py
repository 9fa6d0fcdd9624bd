"""Reading certificates made by `switchman certs` and judging their dates, with no network."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from cryptography import x509
from switchman.cli.pki import init_ca, issue
from switchman.controller.security.certs import CertWatch
from switchman.proto.certinfo import (
    CertError,
    Validity,
    check_files,
    from_pem,
    issue_command,
    pki_dir_of,
    read_cert,
)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    d = tmp_path / "pki"
    init_ca(d, [], NOW - 400 * DAY)  # the controller's certificate expired 35 days ago
    issue(d, "agent", "web-1", [], NOW)
    issue(d, "agent", "old", [], NOW - 400 * DAY)
    issue(d, "agent", "early", [], NOW + 2 * DAY)
    issue(d, "agent", "soon", [], NOW - 355 * DAY)
    return d


def test_read_cert_agrees_with_cryptography_on_names_and_dates(pki: Path) -> None:
    for path in [pki / "ca.pem", pki / "controller" / "cert.pem", *(pki / "agents").glob("*/cert.pem")]:
        ours = read_cert(path)
        theirs = x509.load_pem_x509_certificate(path.read_bytes())
        cn = theirs.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        issuer = theirs.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        assert (ours.subject_cn, ours.issuer_cn, ours.path) == (cn, issuer, path)
        assert (ours.not_before, ours.not_after) == (theirs.not_valid_before_utc, theirs.not_valid_after_utc)


def test_validity_names_expired_early_expiring_and_valid_certificates(pki: Path) -> None:
    agents = pki / "agents"
    assert read_cert(agents / "web-1" / "cert.pem").validity(NOW) is Validity.VALID
    assert read_cert(agents / "soon" / "cert.pem").validity(NOW) is Validity.EXPIRING
    old = read_cert(agents / "old" / "cert.pem")
    assert old.validity(NOW) is Validity.EXPIRED
    assert old.problem(NOW) == f"expired on {old.not_after:%Y-%m-%d %H:%M:%S} UTC"
    early = read_cert(agents / "early" / "cert.pem")
    assert early.validity(NOW) is Validity.NOT_YET_VALID
    assert early.problem(NOW).startswith(f"is not valid before {early.not_before:%Y-%m-%d %H:%M:%S} UTC")


def test_a_file_that_is_not_a_certificate_is_named(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertError, match=r"cert\.pem"):
        read_cert(tmp_path / "cert.pem")
    with pytest.raises(CertError, match="no certificate"):
        from_pem("just text")
    with pytest.raises(CertError, match="cannot read"):
        read_cert(tmp_path / "missing.pem")


def test_check_files_says_which_certificate_when_it_expired_and_the_command_to_issue_a_new_one(pki: Path) -> None:
    [finding] = check_files(pki / "agents" / "old", "agent", NOW)
    assert finding.level == logging.ERROR
    assert str(pki / "agents" / "old" / "cert.pem") in finding.message
    assert "CN old" in finding.message and "expired on" in finding.message
    assert f"`switchman certs issue --dir {pki} agent old`" in finding.message
    [early] = check_files(pki / "agents" / "early", "agent", NOW)
    assert early.level == logging.ERROR and "is not valid before" in early.message
    [soon] = check_files(pki / "agents" / "soon", "agent", NOW)
    assert soon.level == logging.WARNING and "expires in 10 day(s)" in soon.message
    assert check_files(pki / "agents" / "web-1", "agent", NOW) == []


def test_check_files_reports_an_expired_ca(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    init_ca(d, [], NOW - 3700 * DAY)
    findings = check_files(d / "controller", "controller", NOW)
    assert [f.level for f in findings] == [logging.ERROR, logging.ERROR]
    assert "the CA certificate" in findings[1].message and "switchman certs init" in findings[1].message
    assert f"`switchman certs issue --dir {d} controller switchman-controller`" in findings[0].message


def test_the_pki_directory_is_guessed_from_the_layout_certs_writes(tmp_path: Path) -> None:
    assert pki_dir_of(tmp_path / "agents" / "web-1") == tmp_path
    assert pki_dir_of(tmp_path / "controller") == tmp_path
    assert pki_dir_of(Path("/etc/switchman/tls")) is None
    assert issue_command("agent", "web-1", None) == "switchman certs issue --dir PKI_DIR agent web-1"


def test_cert_watch_names_agents_whose_certificates_expire_and_expired_once(pki: Path) -> None:
    clock = [NOW - 380 * DAY]
    watch = CertWatch(pki / "controller", now=lambda: clock[0])  # its own certificate is valid until NOW - 35d
    expires = NOW - 200 * DAY
    hosts = [("web-9", int(expires.timestamp() * 1000)), ("new", 0)]
    assert watch.check(hosts) == []
    clock[0] = expires - 10 * DAY
    [soon] = watch.check(hosts)
    assert (
        soon.level == logging.WARNING and "agent web-9's certificate" in soon.message and "in 10 day(s)" in soon.message
    )
    assert watch.check(hosts) == []  # said once a day, not once a minute
    clock[0] = expires + DAY
    [expired] = watch.check(hosts)
    assert expired.level == logging.ERROR and "agent web-9's certificate (CN web-9) expired on" in expired.message
    assert f"`switchman certs issue --dir {pki} agent web-9`" in expired.message
    assert watch.check(hosts) == []
    clock[0] = NOW
    [own] = watch.check(hosts)
    assert own.level == logging.ERROR and "this controller's certificate" in own.message
    assert str(pki / "controller" / "cert.pem") in own.message
