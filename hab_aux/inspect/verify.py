"""Check a dataset folder against the schema and its manifest, reading every committed chunk.

zarr reads a missing chunk file as fill values without complaint, so files are counted
explicitly; corruption inside a file is caught by the crc32c that ends every codec chain. A step
array's shard file is checked inner chunk by inner chunk (fastread.StepReader.check_shard), so a
problem names the file, the inner chunk and the steps it holds.
"""

import json
from pathlib import Path

import numpy as np
import zarr

from hab_aux import schema
from hab_aux.store import layout
from hab_aux.store.fastread import StepReader


def verify_dataset(root: Path) -> list[str]:
    """Every problem found, one line each; empty when the dataset is whole."""
    path = root / layout.MANIFEST
    if not path.exists():
        return [f"{path}: missing"]
    manifest = json.loads(path.read_text())
    problems = []
    versions = manifest.get("schema_version")
    if not schema.readable(versions):
        problems.append(f"manifest: schema version {versions}, expected one of {list(schema.READABLE_SCHEMA_VERSIONS)}")
    listed = {e["path"]: e for e in manifest["shards"]}
    found = {s.relative_to(root).as_posix() for s in layout.find_shards(root)}
    problems += [f"{p}: listed in the manifest but missing" for p in sorted(set(listed) - found)]
    rebuild = "rebuild it: habaux inspect DATASET --rebuild-manifest"
    problems += [f"{p}: present but not in the manifest ({rebuild})" for p in sorted(found - set(listed))]
    for name in sorted(set(listed) & found):
        problems += [f"{name}: {p}" for p in _verify_shard(root / name, listed[name])]
    if sum(e["num_episodes"] for e in listed.values()) != manifest["num_episodes"]:
        problems.append("manifest: num_episodes is not the sum over its shards")
    return problems


def _verify_shard(shard: Path, entry: dict) -> list[str]:
    try:
        group = zarr.open_group(shard, mode="r")
    except Exception as err:  # any failure to open is what we report
        return [f"cannot open: {err}"]
    commit = layout.read_commit(shard)
    n_eps, n_steps = commit["num_episodes"], commit["num_steps"]
    problems = []
    if (entry["num_episodes"], entry["num_steps"]) != (n_eps, n_steps):
        problems.append(
            f"manifest says {entry['num_episodes']} episodes / {entry['num_steps']} steps, "
            f"commit.json says {n_eps} / {n_steps} (a writer was killed after its commit, or is running: "
            "habaux inspect DATASET --rebuild-manifest)"
        )
    if not schema.readable(group.attrs.get("schema_version")):
        version, readable = group.attrs.get("schema_version"), list(schema.READABLE_SCHEMA_VERSIONS)
        problems.append(f"schema version {version}, expected one of {readable}")
    arrays = [(f.key, f, n_steps) for f in schema.STEP_FIELDS]
    arrays += [(f"{layout.META_GROUP}/{f.key}", f, n_eps) for f in schema.EPISODE_FIELDS]
    arrays += [(schema.EPISODE_ENDS, schema.Field(schema.EPISODE_ENDS, "int64", (), "meta", ""), n_eps)]
    known = {name for name, _, _ in arrays}
    present = {p.relative_to(shard).as_posix() for p in shard.glob("*/**/zarr.json")}  # arrays and the meta group
    present = {p.rsplit("/", 1)[0] for p in present} - {layout.META_GROUP}
    problems += [f"{name}: array not in the schema" for name in sorted(present - known)]
    data = {}
    for name, field, n in arrays:
        found, data[name] = _verify_array(group, shard, name, field, n)
        problems += found
    ends, lengths = data[schema.EPISODE_ENDS], data[f"{layout.META_GROUP}/length"]
    if ends is not None and lengths is not None:
        if n_eps and (ends[-1] != n_steps or np.any(np.diff(np.concatenate([[0], ends])) != lengths)):
            problems.append("episode_ends disagree with commit.json's step count or the episodes' lengths")
    return problems


def _verify_array(
    group: zarr.Group, shard: Path, name: str, field: schema.Field, n: int
) -> tuple[list[str], np.ndarray | None]:
    """Problems of one array, and its committed values when it is small (episode-level) and readable."""
    try:
        arr = group[name]
    except KeyError:
        return [f"{name}: array missing"], None
    expected = np.dtype("int64") if name == schema.EPISODE_ENDS else field.numpy_dtype
    dtype_ok = arr.dtype == expected or (field.dtype == "str" and arr.dtype.kind in "TUO")
    if not dtype_ok or arr.shape[1:] != field.shape or arr.shape[0] < n:
        return [f"{name}: {arr.dtype}{arr.shape}, expected {field.dtype}({n}+, {field.shape})"], None
    step = arr.metadata.chunk_grid.chunk_shape[0]  # the shard (file) length along the leading axis
    reader = None
    if name in schema.STEP_KEYS:
        try:
            reader = StepReader(arr, shard / name, n)
        except ValueError as err:
            return [f"{name}: {err}"], None
    problems, values = [], []
    for i in range((n + step - 1) // step):
        key = arr.metadata.encode_chunk_key((i,) + (0,) * len(field.shape))
        if not (shard / name / key).is_file():
            problems.append(f"{name}: chunk file {key} missing (items {i * step}..{min(n, (i + 1) * step) - 1})")
        elif reader is not None:
            problems += [f"{name}: chunk file {key}: {p}" for p in reader.check_shard(i, min(n, (i + 1) * step) - i * step)]
        else:
            try:
                values.append(arr[i * step : min(n, (i + 1) * step)])
            except Exception as err:  # a checksum or decode failure: the chunk is corrupt
                problems.append(f"{name}: chunk file {key} corrupt ({type(err).__name__}: {err})".splitlines()[0])
    small = not problems and len(field.shape) == 0 and name not in schema.STEP_KEYS
    return problems, (np.concatenate(values) if values else np.zeros(0, expected)) if small else None
