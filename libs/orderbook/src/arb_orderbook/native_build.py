"""Build the compiled book (``_native.pyx`` and the files it includes) in place:
``python -m arb_orderbook.native_build`` (``--force``: build even when up to date).

``make setup`` runs this after ``uv sync``. It turns ``_native.pyx`` into C with Cython
(the ``native`` dependency group) and compiles that with the machine's C compiler into
``_native<EXT_SUFFIX>`` beside the source, where the install imports it (``make setup``'s
editable one, or the installed one in the container image's build stage). It does nothing
when the module is already built from the same source, Python, Cython and build steps (a
stamp under ``libs/orderbook/build``).

It never fails setup: without Cython, a compiler or Python's headers it prints one warning
line and exits 0, and the engine runs the pure-Python book (``arb_orderbook.native``).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

from arb_orderbook.native import SOURCES, built, source_hash

SOURCE = SOURCES[0]  # the module; it includes the others
TARGET = SOURCE.with_name("_native" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
BUILD_DIR = SOURCE.parents[2] / "build" / "native"  # libs/orderbook/build/native
STAMP = BUILD_DIR / "_native.stamp"
CFLAGS = ("-O2", "-fPIC", "-shared", "-fno-strict-aliasing", "-DNDEBUG")


_IMPORT_CHECK = (
    "import importlib.util as u, sys; "
    "s = u.spec_from_file_location('arb_orderbook._native', sys.argv[1]); "
    "s.loader.exec_module(u.module_from_spec(s))"
)


class BuildError(Exception):
    """A step of the build that cannot run here; its message is the warning line's reason."""


def _stamp(cython_version: str) -> str:
    digest = hashlib.sha256(source_hash().encode())
    digest.update(Path(__file__).read_bytes())  # a change to how it is built rebuilds it
    digest.update(f"{sys.version}|{cython_version}|{TARGET.name}".encode())
    return digest.hexdigest()


def _compiler() -> list[str]:
    configured = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if configured and shutil.which(configured[0]):
        return configured
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    raise BuildError("no C compiler (cc, gcc or clang) on PATH")


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BuildError(f"{what} failed: {last[0][:200]}")


def build(force: bool = False) -> str:
    """Build if needed; what happened, as one line ("" when it was up to date)."""
    if not SOURCE.is_file():
        return ""  # a package installed without its sources: nothing to build from
    try:
        cython_version = metadata.version("cython")  # the native group, only needed here
    except metadata.PackageNotFoundError:
        if not force and built() is not None:
            return ""  # built from this very source for this Python: nothing to do
        raise BuildError("Cython is not installed (`uv sync` takes it: the native group)") from None
    stamp = _stamp(cython_version)
    if not force and TARGET.is_file() and STAMP.is_file() and STAMP.read_text() == stamp:
        return ""
    include = sysconfig.get_paths()["include"]
    if not Path(include, "Python.h").is_file():
        raise BuildError(f"no Python.h in {include} (install the Python development headers)")
    compiler = _compiler()
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    c_file = BUILD_DIR / "_native.c"
    _run([sys.executable, "-m", "cython", "-3", "-o", str(c_file), str(SOURCE)], "cython")
    handle, temporary = tempfile.mkstemp(suffix=TARGET.suffix, dir=TARGET.parent)
    os.close(handle)
    try:
        define = f'-DARB_NATIVE_SOURCE_HASH="{source_hash()}"'  # the module's SOURCE_HASH
        _run([*compiler, *CFLAGS, define, f"-I{include}", str(c_file), "-o", temporary],
             "the C compiler")  # fmt: skip
        # mkstemp made it for its owner only; any user's process must load it (the image
        # builds it as root and runs as another user), as an installer leaves a library.
        os.chmod(temporary, 0o755)
        # Import it in a fresh interpreter before it replaces anything.
        _run([sys.executable, "-c", _IMPORT_CHECK, temporary], "importing the built module")
        os.replace(temporary, TARGET)  # atomic: a running process keeps its mapped copy
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    STAMP.write_text(stamp)
    return f"arb_orderbook: built the compiled book ({TARGET.name})"


def main() -> int:
    try:
        line = build(force="--force" in sys.argv[1:])
    except (BuildError, OSError) as exc:
        print(
            f"warning: the compiled book was not built ({exc}); the engine runs the pure-Python "
            "book (same results, slower)",
            file=sys.stderr,
        )
        return 0
    if line:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
