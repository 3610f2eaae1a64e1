"""Write files and directories so that a reader never sees a half-written one.

Every writer in the package (model saves, reports, the yfinance cache) goes through here:
the bytes go to a temporary sibling first, are flushed to disk, and are then renamed over the
destination with ``os.replace``, which is atomic on POSIX and Windows for paths on one
filesystem. A process killed mid-write leaves the previous file intact and, at worst, a
temporary file whose name starts with ``.tmp-`` that no reader looks for.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["atomic_directory", "atomic_write_bytes", "atomic_write_text", "atomic_write_with"]

TMP_PREFIX = ".tmp-"


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` only if it succeeds.

    ``write`` receives a temporary path in the destination's folder and must create the file
    there. On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, rename)."""
    return atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary sibling, fsync, rename)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it into place when the block succeeds.

    Yields the temporary directory to fill. If the block raises (including
    ``KeyboardInterrupt``), the temporary directory is deleted and ``path`` is untouched.
    An existing ``path`` is replaced only after the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            if not overwrite:
                raise FileExistsError(path)
            old = path.with_name(TMP_PREFIX + path.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
