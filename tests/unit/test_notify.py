from __future__ import annotations

import socket
import threading
from pathlib import Path

from switchman.proto.daemon import SystemdNotifier


def test_notify_never_blocks_when_the_receiver_does_not_read(tmp_path: Path) -> None:
    path = tmp_path / "n.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    n = SystemdNotifier(str(path))

    def flood() -> None:
        for _ in range(500):
            n.watchdog()

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "sd_notify blocked the caller"
    first = receiver.recv(100)
    assert first == b"WATCHDOG=1"
    receiver.close()


def test_notify_is_a_no_op_outside_systemd(monkeypatch: object) -> None:
    n = SystemdNotifier("")
    assert not n.enabled
    n.ready("x")  # nothing to send to, nothing raised
