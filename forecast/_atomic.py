"""Write files and directories so that a reader never sees a half-written one.

Every writer in the package (model saves, reports, the yfinance cache) goes through here:
the bytes go to a temporary sibling first, are flushed to disk, and are then renamed over the
destination with ``os.replace``, which is atomic on POSIX and Windows for paths on one
filesystem. A process killed mid-write leaves the previous file intact and, at worst, a
temporary file whose name starts with ``.tmp-`` that no reader looks for.

A directory cannot be renamed over a non-empty one, so replacing a directory swaps the two
in one step with Linux's ``renameat2(RENAME_EXCHANGE)``; where that is not available, the old
directory is first moved aside to ``.tmp-NAME.old`` and the next write puts it back if a
kill landed between the two renames. Files and directories get the permissions an ordinary
``open``/``mkdir`` would give them, or those of the version they replace.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_with",
    "check_writable",
]

TMP_PREFIX = ".tmp-"


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` only if it succeeds.

    ``write`` receives a temporary path in the destination's folder and must create the file
    there. On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, directory=False)
    try:
        write(tmp)
        _keep_mode(tmp, path)
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
    old = path.with_name(TMP_PREFIX + path.name + ".old")
    if not path.exists() and old.is_dir():
        # A writer was killed between the two renames of the fallback below: put it back.
        with contextlib.suppress(OSError):
            os.replace(old, path)
    tmp = _temporary(path, directory=True)
    try:
        yield tmp
        _keep_mode(tmp, path)
        if path.exists():
            if not overwrite:
                raise FileExistsError(path)
            if _exchange(tmp, path):
                shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous version
                return
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _temporary(path: Path, *, directory: bool) -> Path:
    """Create an empty ``.tmp-NAME.XXXX`` sibling of ``path`` with ordinary permissions.

    Unlike ``tempfile.mkstemp``/``mkdtemp`` (always 0600/0700), the mode is 0666/0777 less
    the umask, as for ``open``/``mkdir``: a saved model, report or shared cache entry must not
    become private to its writer just because it was written atomically.
    """
    for _ in range(100):
        tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{secrets.token_hex(6)}")
        try:
            if directory:
                os.mkdir(tmp, 0o777)
            else:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(path))


def _keep_mode(tmp: Path, destination: Path) -> None:
    """Give the new version the permissions of the one it replaces, if any."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, destination.stat().st_mode & 0o7777)


_RENAME_EXCHANGE = 2  # from <linux/fs.h>
_AT_FDCWD = -100


def _exchange(source: Path, destination: Path) -> bool:
    """Atomically swap two paths with ``renameat2(RENAME_EXCHANGE)``; False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM):
        return False  # an old kernel or a filesystem without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(destination))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2  # libc is already loaded
    except (OSError, AttributeError):
        return None  # glibc < 2.28, or a libc without it
    text, number = ctypes.c_char_p, ctypes.c_int
    function.argtypes = [number, text, number, text, ctypes.c_uint]
    function.restype = number
    return function


def check_writable(path: str | os.PathLike[str], *, option: str = "--out") -> None:
    """Raise ``OSError`` naming ``path`` unless a writer here could create or replace it.

    Called before any long work, so an unwritable destination (a read-only mount, no
    permission, a file where a folder is needed) is reported in seconds, not after training.
    It probes the way the writers above will write: by creating (and removing) a temporary
    entry in the nearest folder that exists, so the answer holds for ACLs and read-only
    mounts too, not only for mode bits.
    """
    target = Path(path)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    blocking = next((p for p in (target, *target.parents) if p.exists()), None)
    if blocking is not None and blocking != target and not blocking.is_dir():
        raise OSError(
            errno.ENOTDIR,
            f"cannot write {option} {str(path)!r}: {str(blocking)!r} is a file, not a folder; "
            f"choose another {option}",
        )
    if not folder.is_dir():
        raise OSError(
            errno.ENOTDIR,
            f"cannot write {option} {str(path)!r}: {str(folder)!r} is not a folder; "
            f"choose another {option}",
        )
    try:
        probe = _temporary(folder / target.name, directory=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OSError(
            exc.errno,
            f"cannot write {option} {str(path)!r}: {reason.lower()} in {str(folder)!r}; "
            f"choose another {option} or fix its permissions",
        ) from None
    with contextlib.suppress(OSError):
        probe.rmdir()
