"""eosfast's cache folder: generated code that later runs reuse.

The folder is ``$EOSFAST_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/eosfast``,
else ``~/.cache/eosfast``. What lives there can always be deleted: it is
made again on demand. A cache file is written whole or not at all (to a
unique temporary name beside it, flushed, then renamed through
:mod:`eosfast.store.atomic`), so a concurrent run never reads half a file;
two runs writing the same file write the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..errors import EosfastError
from .atomic import _move


def cache_dir(sub: str = "") -> Path:
    """The cache folder (or its subfolder ``sub``), created if missing.

    Raises :class:`EosfastError` when it cannot be created.
    """
    root = os.environ.get("EOSFAST_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "eosfast"
    path = base / sub if sub else base
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EosfastError(f"cannot create the cache folder {path} ({exc.strerror or exc}); "
                           "set EOSFAST_CACHE_DIR to a writable folder") from None
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            data = memoryview(text.encode())
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        _move(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise EosfastError(f"cannot write the cache file {path} ({exc.strerror or exc}); "
                           "set EOSFAST_CACHE_DIR to a writable folder") from None
    return path
