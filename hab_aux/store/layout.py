"""Where things live in a dataset folder, and the small JSON files that say what is committed.

    DATASET/
      manifest.json                  schema version, tasks, shards with counts, generation info
      shards/shard-00003.zarr/       one zarr v3 group per writer (SLURM array task, Ray worker)
        zarr.json                    group attrs: schema_version, task, depth_codec, generation
        commit.json                  {"num_episodes", "num_steps"}: the commit point
        head_rgb/ ... action/        one array per schema step key, leading axis = step
        episode_ends/                int64, exclusive end step of each episode
        meta/task/ ... meta/failure_reason/   one array per schema episode key

Every JSON file here is replaced atomically (temp file, fsync, os.replace, fsync of the folder),
so a reader sees the old or the new version, never a torn one.
"""

import contextlib
import fcntl
import json
import os
from pathlib import Path

import zarr

from hab_aux import schema

MANIFEST = "manifest.json"
COMMIT = "commit.json"
SHARDS_DIR = "shards"
META_GROUP = "meta"
SHARD_GLOB = "shard-*.zarr"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.zarr"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_commit(shard: Path) -> dict:
    """{"num_episodes": n, "num_steps": s} of a shard; a shard never committed has zero of each."""
    path = shard / COMMIT
    if not path.exists():
        return {"num_episodes": 0, "num_steps": 0}
    return json.loads(path.read_text())


def write_commit(shard: Path, num_episodes: int, num_steps: int) -> None:
    write_json_atomic(shard / COMMIT, {"num_episodes": num_episodes, "num_steps": num_steps})


def find_shards(root: Path) -> list[Path]:
    return sorted((root / SHARDS_DIR).glob(SHARD_GLOB))


@contextlib.contextmanager
def _manifest_lock(root: Path):
    """Serialise manifest updates of writers sharing a dataset folder (flock: local and NFSv4)."""
    with open(root / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _shard_entry(root: Path, shard: Path) -> dict:
    attrs = dict(zarr.open_group(shard, mode="r").attrs)
    commit = read_commit(shard)
    return {
        "path": shard.relative_to(root).as_posix(),
        "task": attrs["task"],
        "schema_version": attrs["schema_version"],
        "num_episodes": commit["num_episodes"],
        "num_steps": commit["num_steps"],
        "generation": attrs.get("generation", {}),
    }


def _write_manifest(root: Path, entries: list[dict]) -> dict:
    entries = sorted(entries, key=lambda e: e["path"])
    versions = sorted({e["schema_version"] for e in entries}) or [schema.SCHEMA_VERSION]
    manifest = {
        "format": "hab-aux dataset",
        "schema_version": versions[0] if len(versions) == 1 else versions,
        "tasks": sorted({e["task"] for e in entries}),
        "num_episodes": sum(e["num_episodes"] for e in entries),
        "num_steps": sum(e["num_steps"] for e in entries),
        "shards": entries,
    }
    write_json_atomic(root / MANIFEST, manifest)
    return manifest


def build_manifest(root: str | Path) -> dict:
    """(Re)write DATASET/manifest.json from the shards found under DATASET/shards.

    Use it to merge shards written by independent jobs into one dataset (copy their
    `shard-*.zarr` folders, with distinct names, into one `shards/` folder, then call this).
    """
    root = Path(root)
    with _manifest_lock(root):
        return _write_manifest(root, [_shard_entry(root, s) for s in find_shards(root)])


def update_manifest_entry(root: Path, shard: Path) -> None:
    """Refresh one shard's line of the manifest, keeping the other writers' lines."""
    with _manifest_lock(root):
        path = root / MANIFEST
        entries = json.loads(path.read_text())["shards"] if path.exists() else []
        entry = _shard_entry(root, shard)
        _write_manifest(root, [e for e in entries if e["path"] != entry["path"]] + [entry])
