"""Decoded step arrays of a dataset set, one memory-mapped .npy per key: batches without decompression.

A batch of 8 random steps reads each image key from its compressed zarr chunk: one 10-step chunk
decoded per key per sample, about 0.04 s per batch on one core beside a 0.10-s training step. On
two cores that work competes with training. `habaux train --decoded-cache` decodes every key a run
reads once, shard by shard, into `<HABAUX_CACHE>/decoded/<dataset fingerprint>/<key>.npy`, and the
loader indexes those files: the page cache holds one copy for every rank and worker. The values are
the stored ones, so a run's batches are the same with or without it (and `--resume` may switch it).
"""

import fcntl
import os
import shutil
from pathlib import Path

import numpy as np

from hab_aux.errors import UserError
from hab_aux.schema import FIELDS
from hab_aux.store import Dataset

HEADROOM = 1 << 30  # bytes left free on the cache's disk after writing it
BLOCK_CHUNKS = 100  # storage chunks decoded per copy into the file (1,000 steps of 10: ~50 MB of RGB)


def cache_folder(cache_dir: Path, fingerprint: str) -> Path:
    return cache_dir / "decoded" / fingerprint


def _bytes_per_step(key: str) -> int:
    field = FIELDS[key]
    return int(np.prod(field.shape, dtype=np.int64)) * np.dtype(field.numpy_dtype).itemsize


def build(data: Dataset, keys: tuple[str, ...], folder: Path) -> None:
    """Write the missing `keys` of the (opened) datasets into `folder`; concurrent callers (DDP ranks) wait for
    the one that writes. A file appears only when complete (written aside, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [k for k in keys if not (folder / f"{k}.npy").exists()]
        if not missing:
            return
        need = data.num_steps * sum(_bytes_per_step(k) for k in missing)
        free = shutil.disk_usage(folder).free
        if need + HEADROOM > free:
            raise UserError(f"--decoded-cache needs {need / 2**30:.1f} GiB in {folder} ({free / 2**30:.1f} GiB free, "
                            "1 GiB kept spare); free space, set HABAUX_CACHE to a larger disk, or train without it")  # fmt: skip
        for key in missing:
            field, partial = FIELDS[key], folder / f".{key}.{os.getpid()}.npy"
            out = np.lib.format.open_memmap(partial, mode="w+", dtype=field.numpy_dtype, shape=(data.num_steps, *field.shape))
            for shard in data.shards:  # blocks of whole chunks, in order: every chunk decoded once
                array = shard.array(key)
                block = BLOCK_CHUNKS * array.chunks[0]
                for start in range(0, shard.num_steps, block):
                    end = min(start + block, shard.num_steps)
                    out[shard.step_offset + start : shard.step_offset + end] = array[start:end]
            out.flush()
            del out
            os.replace(partial, folder / f"{key}.npy")


class DecodedSteps:
    """`Dataset.steps` over the decoded files: the same arrays, read by indexing."""

    def __init__(self, folder: Path, keys: tuple[str, ...]):
        self.folder, self.keys = folder, keys
        self._arrays: dict[str, np.ndarray] = {}

    def steps(self, indices: np.ndarray, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
        if not self._arrays:  # opened in the process that reads (loader workers each map the files)
            self._arrays = {k: np.load(self.folder / f"{k}.npy", mmap_mode="r") for k in self.keys}
        return {k: np.asarray(self._arrays[k][indices]) for k in keys}

    def __getstate__(self):
        return {**self.__dict__, "_arrays": {}}
