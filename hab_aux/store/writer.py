"""Append whole episodes to one shard of a dataset, each episode committed atomically.

Guarantee: once `add_episode` returns, the episode survives a SIGKILL of the writer, and a power
loss or host crash, at any later moment; a crash at any moment loses at most the episode in
flight, and committed episodes are never altered.

Why it holds:
1. `commit.json` ({"num_episodes", "num_steps"}) is the only commit point; readers never look
   past it, whatever length the arrays have. It is written last, atomically (temp file, fsync,
   os.replace, folder fsync: layout.write_json_atomic).
2. An episode writes its steps at [num_steps, num_steps + T) and its metadata at index
   num_episodes, both beyond the commit, so committed values are never the target of a write.
3. A shard file of zarr's sharding codec can hold committed and new steps together and is
   rewritten whole on append. Every file goes through DurableLocalStore: written to a temp name,
   fsynced, `os.replace`d, folder fsynced. A crash leaves the old file (committed steps intact) or
   the new one, never a torn or empty one, and all data is on disk before the commit names it.
On reopen the writer shrinks every array back to the committed counts, deletes the temp files a
crash left (`*.partial`), and goes on appending.

Appends are cheap because an episode rewrites only the <= 2 shard files per key it touches
(SHARD_STEPS steps each, see codecs.py), not the whole array.
"""

from pathlib import Path

import numpy as np
import zarr

from hab_aux import schema
from hab_aux.errors import UserError, choose
from hab_aux.store import codecs, layout
from hab_aux.store.durable import DurableLocalStore

_CONFIG = {"write_empty_chunks": True}  # an all-False mask chunk is still a file, so --verify can count files


def check_episode(steps: dict[str, np.ndarray], meta: dict) -> int:
    """Raise ValueError naming the first key that does not match the schema; return the length T."""
    extra = sorted(set(steps) - set(schema.STEP_KEYS)) + sorted(set(meta) - set(schema.EPISODE_KEYS))
    if extra:
        raise ValueError(f"{extra[0]}: not a schema key")
    length = schema.check_steps(steps)
    for f in schema.EPISODE_FIELDS:
        if f.key not in meta:
            raise ValueError(f"{f.key}: missing from the episode's meta")
        v = meta[f.key]
        if not _is_scalar_of(v, f.dtype):
            raise ValueError(f"{f.key}: got {type(v).__name__} {v!r}, schema says {f.dtype}")
    if int(meta["length"]) != length:
        raise ValueError(f"length: meta says {meta['length']}, the step arrays have {length} steps")
    return length


def _is_scalar_of(value, dtype: str) -> bool:
    """Whether `value` is a Python/numpy scalar of the schema dtype (bools are not integers here)."""
    is_bool = isinstance(value, (bool, np.bool_))
    if dtype == "str":
        return isinstance(value, str)
    if dtype == "bool":
        return is_bool
    if dtype.startswith("float"):
        return isinstance(value, (float, int, np.floating, np.integer)) and not is_bool
    return isinstance(value, (int, np.integer)) and not is_bool


class ShardWriter:
    """Writes shard `shard` of the dataset folder `dataset`; reopening an existing shard resumes it.

    One writer per shard (give each SLURM array task / Ray worker its own shard index); writers
    of different shards may share the dataset folder, the manifest is updated under a file lock.
    `generation` (e.g. {"command": ..., "config": ...}) is recorded in the shard and the manifest.
    `depth_codec` (one of codecs.DEPTH_CODECS) is how the depth keys are stored; it is kept in the
    shard's attributes, and resuming a shard made with another one is refused.
    """

    def __init__(self, dataset: str | Path, shard: int = 0, *, task: str, generation: dict | None = None,
                 depth_codec: str = codecs.DEFAULT_DEPTH_CODEC):  # fmt: skip
        choose("depth codec", depth_codec, codecs.DEPTH_CODECS)
        self.root = Path(dataset)
        self.path = self.root / layout.SHARDS_DIR / layout.shard_name(shard)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        commit = layout.read_commit(self.path)
        if commit["num_episodes"]:
            self.group = zarr.open_group(DurableLocalStore(self.path), mode="r+")
            self._check_resumable(task, depth_codec)
            self.arrays = self._open_arrays()
            self._truncate(commit["num_episodes"], commit["num_steps"])
        else:  # nothing committed: whatever a killed first episode left is discarded
            self.group = self._create(task, generation or {}, depth_codec)
            self.arrays = self._open_arrays()
        self.num_episodes, self.num_steps = commit["num_episodes"], commit["num_steps"]
        layout.update_manifest_entry(self.root, self.path)

    def _create(self, task: str, generation: dict, depth_codec: str) -> zarr.Group:
        attrs = {"schema_version": schema.SCHEMA_VERSION, "task": task, "depth_codec": depth_codec, "generation": generation}
        group = zarr.open_group(DurableLocalStore(self.path), mode="w", zarr_format=3, attributes=attrs)
        for f in schema.STEP_FIELDS:
            spec = codecs.step_array_spec(f.key, depth_codec)
            group.create_array(f.key, shape=(0, *f.shape), dtype=f.numpy_dtype, **spec)
        meta = group.create_group(layout.META_GROUP)
        for f in schema.EPISODE_FIELDS:
            dtype = str if f.dtype == "str" else f.dtype
            meta.create_array(f.key, shape=(0,), dtype=dtype, **codecs.episode_array_spec())
        group.create_array(schema.EPISODE_ENDS, shape=(0,), dtype="int64", **codecs.episode_array_spec())
        return group

    def _check_resumable(self, task: str, depth_codec: str) -> None:
        attrs = self.group.attrs
        if attrs["schema_version"] != schema.SCHEMA_VERSION or attrs["task"] != task:
            raise UserError(
                f"{self.path} holds task {attrs['task']} schema v{attrs['schema_version']}; "
                f"cannot append task {task} schema v{schema.SCHEMA_VERSION} (use another shard index)"
            )
        if attrs["depth_codec"] != depth_codec:
            raise UserError(f"{self.path} stores depth with depth codec {attrs['depth_codec']}; cannot append with "
                            f"{depth_codec} (use --depth-codec {attrs['depth_codec']} or another shard index)")  # fmt: skip

    def _open_arrays(self) -> dict[str, zarr.Array]:
        """Every array by its path in the group (config is not stored in the metadata, so reapply it)."""
        names = [*schema.STEP_KEYS, *(f"{layout.META_GROUP}/{k}" for k in schema.EPISODE_KEYS), schema.EPISODE_ENDS]
        return {name: self.group[name].with_config(_CONFIG) for name in names}

    def _truncate(self, num_episodes: int, num_steps: int) -> None:
        for name, arr in self.arrays.items():
            n = num_steps if name in schema.STEP_KEYS else num_episodes
            if arr.shape[0] != n:
                arr.resize((n, *arr.shape[1:]))
        for stray in self.path.rglob("*.partial"):
            stray.unlink()

    def add_episode(self, steps: dict[str, np.ndarray], meta: dict) -> int:
        """Validate, write and commit one whole episode; return its index within this shard."""
        length = check_episode(steps, meta)
        n0, n1, e = self.num_steps, self.num_steps + length, self.num_episodes
        for key in schema.STEP_KEYS:
            arr = self.arrays[key]
            arr.resize((n1, *arr.shape[1:]))
            arr[n0:n1] = steps[key]
        values = {f"{layout.META_GROUP}/{k}": meta[k] for k in schema.EPISODE_KEYS} | {schema.EPISODE_ENDS: n1}
        for name, value in values.items():
            arr = self.arrays[name]
            arr.resize((e + 1,))
            arr[e] = value
        layout.write_commit(self.path, e + 1, n1)
        self.num_episodes, self.num_steps = e + 1, n1
        layout.update_manifest_entry(self.root, self.path)
        return e

    def close(self) -> None:
        """Nothing is buffered (every episode is committed by add_episode); kept for `with`."""

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

