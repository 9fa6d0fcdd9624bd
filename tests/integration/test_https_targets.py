"""HTTPS probes and scrapes in an agent that started without Python's TLS.

The agent imports asyncio with ``ssl`` hidden, so OpenSSL (4.5 MiB) is not
loaded until a target speaks HTTPS (``switchman.agent.lazy_tls``). These run
in a fresh interpreter started the way the agent starts, against a real TLS
server, and check that the first HTTPS target loads TLS and works."""

from __future__ import annotations

import http.server
import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from switchman.cli.pki import init_ca

CHILD = """
import json, sys
from switchman.agent.lazy_tls import import_asyncio
import_asyncio()
import asyncio
from switchman.agent.probes.checks import run_probe
from switchman.agent.scrape.fetch import fetch
from switchman.proto.probes import Kind, ProbeSpec
before = "ssl" in sys.modules or "_ssl" in sys.modules
url = sys.argv[1]
skip = asyncio.run(run_probe(ProbeSpec("tls", Kind.HTTP, url=url + "/health", tls_skip_verify=True, body_contains="ok")))
strict = asyncio.run(run_probe(ProbeSpec("tls", Kind.HTTP, url=url + "/health")))
try:
    scraped = asyncio.run(fetch(url + "/metrics", 5.0, "test"))
except Exception as exc:
    scraped = f"{type(exc).__name__}: {exc}"
print(json.dumps({"ssl_at_start": before, "skip": [skip.success, skip.http_status, skip.output],
                  "strict": [strict.success, strict.output], "scrape": scraped}))
"""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n" if self.path == "/health" else b"up 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        return


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    init_ca(tmp_path / "pki", ["127.0.0.1"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "pki" / "controller" / "cert.pem", tmp_path / "pki" / "controller" / "key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_agent_started_without_tls_probes_and_scrapes_https_targets(tls_server: str) -> None:
    out = subprocess.run([sys.executable, "-c", CHILD, tls_server], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["ssl_at_start"] is False, "the agent's imports loaded ssl"
    assert got["skip"][:2] == [True, 200], got
    # the fleet CA is not in the system's trust store: verification fails, as it should
    assert got["strict"][0] is False and "CERTIFICATE_VERIFY_FAILED" in got["strict"][1], got
    assert "CERTIFICATE_VERIFY_FAILED" in got["scrape"] or got["scrape"].startswith("ScrapeFailed"), got
