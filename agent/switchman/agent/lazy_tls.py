"""Python's TLS (OpenSSL's libssl and libcrypto, about 4.5 MiB resident),
loaded only when a probe or a scrape target speaks HTTPS.

The agent's own link to the controller is TLS through gRPC, which has its
own TLS library, so most agents never need Python's. asyncio imports
``ssl`` as it is imported itself, and keeps ``None`` when that fails:
:func:`import_asyncio` imports it with ``ssl`` hidden, and :func:`tls`
imports ``ssl`` when it is first needed and hands it to the asyncio modules
that kept ``None``.
"""

from __future__ import annotations

import sys
from types import ModuleType

# the asyncio modules (Python 3.11) that bind ``ssl`` at import time
_ASYNCIO_MODULES = ("asyncio.base_events", "asyncio.selector_events", "asyncio.sslproto")


def import_asyncio() -> None:
    """Import asyncio without loading ``ssl`` (a no-op once either is loaded)."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` raises ImportError meanwhile
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def tls() -> ModuleType:
    """The ``ssl`` module, with asyncio able to use it."""
    import ssl

    for name in _ASYNCIO_MODULES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "ssl", ssl) is None:
            module.ssl = ssl  # type: ignore[attr-defined]
    sslproto = sys.modules.get("asyncio.sslproto")
    if sslproto is not None and not hasattr(sslproto, "SSLAgainErrors"):
        sslproto.SSLAgainErrors = (ssl.SSLWantReadError, ssl.SSLSyscallError)  # type: ignore[attr-defined]
    return ssl
