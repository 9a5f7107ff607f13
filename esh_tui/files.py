"""Opening paths the user names without hanging: a FIFO nobody writes to, or reads from, is refused, not waited on.

A pipe from the shell (`<(grep x list)`, `>(gzip > backup.gz)`) has a process on the other end and works.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path
from typing import BinaryIO


def kind_of(path: Path) -> str | None:
    """What a path that exists but is not a regular file is ("a FIFO", "a socket", …); None otherwise."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return None


def is_file(path: Path) -> bool:
    """Whether `path` is a file. A path that cannot even be looked up (a name too long for the file system)
    holds none; whoever means to make it says what is wrong with it (the store its data directory)."""
    try:
        return path.is_file()
    except OSError:
        return False


def open_to_read(path: Path) -> BinaryIO:
    """Open for reading; a FIFO with no writer reads as empty instead of blocking the open."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)  # once open, a writer's data is waited for as usual
    return os.fdopen(descriptor, "rb")


READER_GRACE_SECONDS = 5.0  # how long a FIFO may take to get its reader (one started just before esh-tui)


def open_to_write(path: Path) -> BinaryIO:
    """Open an existing pipe or device for writing; a FIFO that no process reads from within
    READER_GRACE_SECONDS raises OSError (ENXIO) instead of blocking for ever."""
    deadline = time.monotonic() + READER_GRACE_SECONDS
    while True:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if time.monotonic() >= deadline:
                raise OSError(errno.ENXIO, "no process reads from it") from None
            time.sleep(0.05)  # the reader may be opening its end right now
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "wb")


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data` all at once: a temporary file beside it, flushed, then renamed over it, so a
    reader (a feed reader, a web server) sees the old file or the new one, never half of one. The new file
    gets `mode`, else keeps the old one's permissions (else the umask's); a secret's file (mode 0600) is never
    readable by others, not even for a moment. The temporary one is removed if anything fails. A symbolic link
    (a feed served from elsewhere, a dotfile kept in a repository) stays one: the file it points to is replaced."""
    import tempfile

    path = Path(os.path.realpath(path))
    # 0600; the name's start only, so a name near the file system's limit still leaves room for the rest
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is None:
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
            except OSError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as stream:
            descriptor = -1
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
