"""``switchman``: the operators' CLI."""

import os

# gRPC's C core logs TLS handshake failures to stderr on its own; the CLI says
# what went wrong in one line instead (errors.explain_unreachable). Read once,
# when grpc is first imported, so it is set here, before any module imports
# grpc. GRPC_VERBOSITY=debug in the environment still shows them.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

__version__ = "0.1.0"
