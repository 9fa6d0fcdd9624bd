"""Regenerate the Python code for the switchman.v1 protos.

Run from anywhere: ``python proto/generate.py [--check]``. The directory
given to ``-I`` is ``proto/`` itself, so the import path of every file
(``switchman/proto/v1/x.proto``) equals its Python module path
(``switchman.proto.v1.x_pb2``): no sys.path or sed tricks are needed.
With ``--check`` it generates into a temporary tree and exits 1 when the
committed code differs.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent
PKG = Path("switchman/proto/v1")


def generate(out_root: Path) -> list[Path]:
    protos = sorted((ROOT / PKG).glob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *[str(p.relative_to(ROOT)) for p in protos],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p for p in (out_root / PKG).iterdir() if p.suffix in (".py", ".pyi") and "_pb2" in p.name)


def main() -> int:
    check = "--check" in sys.argv[1:]
    if not check:
        generate(ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = [
            p.name
            for p in fresh
            if not (ROOT / PKG / p.name).exists() or not filecmp.cmp(p, ROOT / PKG / p.name, shallow=False)
        ]
        committed = {p.name for p in (ROOT / PKG).iterdir() if "_pb2" in p.name and p.suffix in (".py", ".pyi")}
        stale += sorted(committed - {p.name for p in fresh})
        if stale:
            print("generated code is stale, run `make proto`: " + ", ".join(stale), file=sys.stderr)
            return 1
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
