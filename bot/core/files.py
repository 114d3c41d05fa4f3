"""Every file modbot writes holds, or may hold, safeguarding data: it is created private
(0600, in 0700 folders) from the first byte, never chmod-ed after the fact."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes | str, exclusive: bool = False) -> Path:
    """Write `data` to `path`, created 0600. With `exclusive`, an existing file is an error
    (FileExistsError), so a retried write cannot clobber what an earlier attempt wrote."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)  # in case the file existed with wider permissions
    return path
