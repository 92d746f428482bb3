"""Read one or several datasets as one sequence of episodes and steps, lazily.

Counts come from each shard's commit.json (read once, at open): a reader opened while a writer
appends sees a consistent snapshot and never the episode in flight. Arrays are opened once and
cached; reads touch only the chunks that hold the requested steps.
"""

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import zarr

from hab_aux import schema
from hab_aux.errors import UserError
from hab_aux.store import layout
from hab_aux.store.fastread import StepReader


class Shard:
    """One committed shard store, with its place in the concatenation."""

    def __init__(self, path: Path, step_offset: int, episode_offset: int):
        self.path = path
        commit = layout.read_commit(path)
        self.num_episodes, self.num_steps = commit["num_episodes"], commit["num_steps"]
        self.step_offset, self.episode_offset = step_offset, episode_offset
        self.group = zarr.open_group(path, mode="r")
        self.attrs = dict(self.group.attrs)
        self._arrays: dict[str, zarr.Array] = {}
        self._step_readers: dict[str, StepReader] = {}

    def array(self, key: str) -> zarr.Array:
        if key not in self._arrays:
            name = key if key in schema.STEP_KEYS or key == schema.EPISODE_ENDS else f"{layout.META_GROUP}/{key}"
            self._arrays[key] = self.group[name]
        return self._arrays[key]

    def step_reader(self, key: str) -> StepReader:
        if key not in self._step_readers:
            self._step_readers[key] = StepReader(self.array(key), self.path / key, self.num_steps)
        return self._step_readers[key]

    @cached_property
    def episode_ends(self) -> np.ndarray:
        return np.asarray(self.array(schema.EPISODE_ENDS)[: self.num_episodes], dtype=np.int64)


def _load_manifest(root: Path) -> dict:
    if not root.is_dir():
        raise UserError(f"no dataset at {root}: not a folder")
    path = root / layout.MANIFEST
    if not path.exists():
        raise UserError(f"{root} is not a hab-aux dataset: no {layout.MANIFEST}")
    manifest = json.loads(path.read_text())
    versions = manifest.get("schema_version")
    if not schema.readable(versions):
        readable = " and ".join(map(str, schema.READABLE_SCHEMA_VERSIONS))
        raise UserError(f"{root} has schema version {versions}, this hab-aux reads versions {readable}")
    for entry in manifest["shards"]:
        if not (root / entry["path"] / "zarr.json").exists():
            raise UserError(f"{root}: shard {entry['path']} listed in {layout.MANIFEST} is missing")
    return manifest


class Dataset:
    """The concatenation of the shards of one or more dataset folders."""

    def __init__(self, roots: list[Path]):
        self.roots = roots
        self.manifests = [_load_manifest(r) for r in roots]
        self.shards: list[Shard] = []
        steps = episodes = 0
        for root, manifest in zip(roots, self.manifests):
            for entry in manifest["shards"]:
                shard = Shard(root / entry["path"], steps, episodes)
                self.shards.append(shard)
                steps, episodes = steps + shard.num_steps, episodes + shard.num_episodes
        self.num_steps, self.num_episodes = steps, episodes
        self._shard_first_step = np.array([s.step_offset for s in self.shards], dtype=np.int64)
        self._shard_first_episode = np.array([s.episode_offset for s in self.shards], dtype=np.int64)

    @cached_property
    def episode_ends(self) -> np.ndarray:
        """Exclusive global end step of every episode."""
        parts = [s.episode_ends + s.step_offset for s in self.shards]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    @cached_property
    def meta(self) -> list[dict]:
        """Per-episode metadata, one dict per episode (schema.EPISODE_KEYS, Python scalars)."""
        columns = {f.key: self.meta_column(f.key).tolist() for f in schema.EPISODE_FIELDS}
        return [{k: columns[k][i] for k in columns} for i in range(self.num_episodes)]

    def meta_column(self, key: str) -> np.ndarray:
        """One episode key over all episodes (strings as an object array of str)."""
        field = schema.FIELDS[key]
        parts = [np.asarray(s.array(key)[: s.num_episodes]).astype(field.numpy_dtype) for s in self.shards]
        return np.concatenate(parts) if parts else np.zeros(0, field.numpy_dtype)

    def _check(self, kind: str, i: int, n: int) -> int:
        if not -n <= i < n:
            raise UserError(f"{kind} {i} out of range: the dataset has {n} {kind}s (valid 0..{n - 1})")
        return i % n

    def _locate_episode(self, i: int) -> tuple[Shard, int]:
        i = self._check("episode", i, self.num_episodes)
        shard = self.shards[int(np.searchsorted(self._shard_first_episode, i, side="right")) - 1]
        return shard, i - shard.episode_offset

    def episode_bounds(self, i: int) -> tuple[int, int]:
        """Global [start, end) steps of episode i."""
        shard, j = self._locate_episode(i)
        start = shard.episode_ends[j - 1] if j else 0
        return shard.step_offset + int(start), shard.step_offset + int(shard.episode_ends[j])

    def episode(self, i: int, keys: tuple[str, ...] = schema.STEP_KEYS) -> dict[str, np.ndarray]:
        """The step arrays of episode i, reading only `keys`."""
        shard, j = self._locate_episode(i)
        start, end = (int(shard.episode_ends[j - 1]) if j else 0), int(shard.episode_ends[j])
        return {k: shard.array(k)[start:end] for k in keys}

    def episode_meta(self, i: int) -> dict:
        shard, j = self._locate_episode(i)
        return {f.key: np.asarray(shard.array(f.key)[j]).astype(f.numpy_dtype).item() for f in schema.EPISODE_FIELDS}

    def episode_generation(self, i: int) -> dict:
        """The generation record (config, command) of the shard that holds episode i."""
        shard, _ = self._locate_episode(i)
        return shard.attrs.get("generation", {})

    def step(self, i: int, keys: tuple[str, ...] = schema.STEP_KEYS) -> dict[str, np.ndarray]:
        """One global step: each key's value without the leading axis."""
        i = self._check("step", i, self.num_steps)
        return {k: v[0] for k, v in self.steps([i], keys).items()}

    def steps(self, indices, keys: tuple[str, ...] = schema.STEP_KEYS) -> dict[str, np.ndarray]:
        """Many global steps at once (a training batch), in the order given; each chunk decoded once."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_steps):
            bad = indices[(indices < 0) | (indices >= self.num_steps)][0]
            n = self.num_steps
            raise UserError(f"step {bad} out of range: the dataset has {n} steps (valid 0..{n - 1})")
        which = np.searchsorted(self._shard_first_step, indices, side="right") - 1
        out = {k: np.empty((len(indices), *schema.FIELDS[k].shape), schema.FIELDS[k].numpy_dtype) for k in keys}
        for s in np.unique(which):
            shard, rows = self.shards[s], np.nonzero(which == s)[0]
            local, inverse = np.unique(indices[rows] - shard.step_offset, return_inverse=True)
            for k in keys:
                out[k][rows] = shard.step_reader(k).read(local)[inverse]
        return out


def open_dataset(paths: str | Path | list[str | Path]) -> Dataset:
    """Open one dataset folder, or several as one concatenation (of any readable schema versions)."""
    roots = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    if not roots:
        raise UserError("no dataset given")
    return Dataset(roots)
