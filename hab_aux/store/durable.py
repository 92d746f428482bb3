"""A zarr LocalStore whose every file write survives a power loss, not only a killed process.

zarr's LocalStore (3.1) already writes each file to a temp name and `os.replace`s it, so a killed
process never leaves a torn file. It does not fsync, though: after a power loss a filesystem may
keep the rename but not the data (XFS, many network filesystems), leaving an empty file where a
shard file holding committed steps used to be. Here the temp file is fsynced before the rename and
the folder after it.
"""

import asyncio
import os
import uuid
from pathlib import Path

from zarr.core.buffer import Buffer
from zarr.storage import LocalStore

from hab_aux.store.layout import fsync_dir


def _durable_put(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")  # the suffix zarr uses: one cleanup rule
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class DurableLocalStore(LocalStore):
    async def set(self, key: str, value: Buffer) -> None:
        await self._ensure_open()
        self._check_writable()
        await asyncio.to_thread(_durable_put, self.root / key, value.as_buffer_like())

    def set_sync(self, key: str, value: Buffer) -> None:
        self._ensure_open_sync()
        self._check_writable()
        _durable_put(self.root / key, value.as_buffer_like())
