"""Store round trip, multi-shard datasets, manifests, random access and user errors."""

import json
import re
import shutil

import numpy as np
import pytest
import zarr

from hab_aux import schema
from hab_aux.errors import UserError
from hab_aux.inspect.verify import verify_dataset
from hab_aux.store import ShardWriter, build_manifest, codecs, open_dataset
from hab_aux.store.image_codec import ImageCodec
from tests.hab_aux.conftest import LENGTHS, write_dataset

IMAGE_KEYS = tuple(k for k in schema.STEP_KEYS if codecs.is_image(k))
# head_depth's codecs as schema 2 stores hold them (copied from a store that schema 2's hab-aux wrote)
SCHEMA_2_DEPTH_CODECS = [{"name": "sharding_indexed", "configuration": {
    "chunk_shape": [10, 128, 128, 1],
    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
               {"name": "zstd", "configuration": {"level": 9, "checksum": False}}, {"name": "crc32c"}],
    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
    "index_location": "end"}}]  # fmt: skip


def _concat(episodes, key):
    return np.concatenate([steps[key] for steps, _ in episodes])


def test_round_trip_is_bit_exact(dataset, episodes):
    ds = open_dataset(dataset)
    assert (ds.num_episodes, ds.num_steps) == (len(LENGTHS), sum(LENGTHS))
    assert ds.episode_ends.tolist() == np.cumsum(LENGTHS).tolist()
    for i, (steps, meta) in enumerate(episodes):
        got = ds.episode(i)
        for key in schema.STEP_KEYS:
            assert got[key].dtype == steps[key].dtype and np.array_equal(got[key], steps[key]), key
        assert ds.episode_meta(i) == meta
    assert ds.meta == [meta for _, meta in episodes]


def _inner_codecs(dataset, key) -> tuple[int, list[dict]]:
    """(steps per inner chunk, the inner codecs' metadata) of a step key, as its zarr.json holds them."""
    sharding = json.loads((dataset / "shards" / "shard-00000.zarr" / key / "zarr.json").read_text())["codecs"][0]
    return sharding["configuration"]["chunk_shape"][0], sharding["configuration"]["codecs"]


def _check_image_keys(dataset, episodes, depth_codec: str) -> None:
    """Every image key has the chain codecs.py chose for its kind and `depth_codec`, and round-trips
    bit for bit through zarr and through the fast reader (whose codecs come from the metadata, so it
    survives reopening)."""
    group, ds = zarr.open_group(dataset / "shards" / "shard-00000.zarr", mode="r"), open_dataset(dataset)
    assert group.attrs["depth_codec"] == depth_codec
    for key in IMAGE_KEYS:
        kind = codecs.image_kind(key)
        steps, inner = _inner_codecs(dataset, key)
        frame_codec = codecs.DEPTH_CODECS[depth_codec] if kind == "depth" else None
        if frame_codec is not None:
            assert (steps, inner) == (1, [{"name": "hab_aux.image", "configuration": {"codec": frame_codec}}, {"name": "crc32c"}])
            assert group[key].metadata.codecs[0].codecs[0] == ImageCodec(codec=frame_codec)
        else:
            delta = ["numcodecs.delta"] if kind in codecs.DELTA_KINDS else []
            assert (steps, [c["name"] for c in inner]) == (codecs.IMAGE_CHUNK, [*delta, "bytes", "zstd", "crc32c"]), key
        values = np.concatenate([steps[key] for steps, _ in episodes])
        assert np.array_equal(group[key][: len(values)], values), key
        assert np.array_equal(ds.steps(np.arange(len(values)), (key,))[key], values), key
        indices = np.random.default_rng(0).permutation(len(values))[:40]  # random steps through the fast reader
        assert np.array_equal(ds.steps(indices, (key,))[key], values[indices]), key
    assert verify_dataset(dataset) == []


def test_image_keys_use_the_chosen_codecs_and_read_back_exactly(dataset, episodes):
    _check_image_keys(dataset, episodes, codecs.DEFAULT_DEPTH_CODEC)


def test_depth_stored_by_jpegxl_reads_back_exactly(jpegxl_dataset, episodes):
    _check_image_keys(jpegxl_dataset, episodes[:3], "jpegxl")
    ds = open_dataset(jpegxl_dataset)
    for i, (steps, _) in enumerate(episodes[:3]):
        got = ds.episode(i)
        assert all(np.array_equal(got[key], steps[key]) for key in schema.STEP_KEYS)


def test_a_depth_codec_is_kept_per_shard_and_resuming_with_another_is_refused(tmp_path, episodes):
    with ShardWriter(tmp_path, 0, task="SetTable", depth_codec="jpegxl") as w:
        w.add_episode(*episodes[0])
    message = "stores depth with depth codec jpegxl; cannot append with delta-zstd (use --depth-codec jpegxl or another shard index)"
    with pytest.raises(UserError, match=re.escape(message)):
        ShardWriter(tmp_path, 0, task="SetTable")
    assert ShardWriter(tmp_path, 0, task="SetTable", depth_codec="jpegxl").add_episode(*episodes[1]) == 1
    with pytest.raises(UserError, match="unknown depth codec 'png'; valid: delta-zstd, jpegxl$"):
        ShardWriter(tmp_path, 1, task="SetTable", depth_codec="png")
    assert not (tmp_path / "shards" / "shard-00001.zarr").exists()


def test_schema_2_stores_still_read(tmp_path, episodes, monkeypatch):
    """A store in schema 2's format (zstd over 10 steps for every image key) opens, reads exactly,
    verifies, concatenates with a schema 3 store, and is not appended to."""
    with monkeypatch.context() as m:
        m.setattr(schema, "SCHEMA_VERSION", 2)
        m.setattr(codecs, "DELTA_KINDS", ())
        old = write_dataset(tmp_path / "old", episodes[:2])
    depth = json.loads((old / "shards" / "shard-00000.zarr" / "head_depth" / "zarr.json").read_text())
    assert depth["codecs"] == SCHEMA_2_DEPTH_CODECS
    assert json.loads((old / "manifest.json").read_text())["schema_version"] == 2
    new = write_dataset(tmp_path / "new", episodes[2:3])
    ds = open_dataset([old, new])
    for i, (steps, _) in enumerate(episodes[:3]):
        got, (start, end) = ds.episode(i), ds.episode_bounds(i)
        batch = ds.steps(np.arange(start, end), IMAGE_KEYS)
        for key in schema.STEP_KEYS:
            assert np.array_equal(got[key], steps[key]), key
        for key in IMAGE_KEYS:
            assert np.array_equal(batch[key], steps[key]), key
    assert verify_dataset(old) == []
    with pytest.raises(UserError, match="schema v2; cannot append task SetTable schema v3"):
        ShardWriter(old, 0, task="SetTable")


def test_random_access_matches_concatenation(dataset, episodes):
    ds = open_dataset(dataset)
    indices = np.random.default_rng(1).integers(0, ds.num_steps, 64)
    batch = ds.steps(indices, keys=("head_rgb", "hand_depth", "hand_mask", "qpos", "is_grasped"))
    for key, values in batch.items():
        assert np.array_equal(values, _concat(episodes, key)[indices]), key
    one = ds.step(int(indices[0]))
    assert all(np.array_equal(one[k], _concat(episodes, k)[indices[0]]) for k in schema.STEP_KEYS)
    start, end = ds.episode_bounds(1)
    assert (start, end) == (LENGTHS[0], LENGTHS[0] + LENGTHS[1])


def test_multiple_shards_rebuilt_manifest_and_two_datasets(tmp_path, episodes):
    a = write_dataset(tmp_path / "a", episodes, shards=3)
    (a / "manifest.json").unlink()
    manifest = build_manifest(a)
    assert [e["num_episodes"] for e in manifest["shards"]] == [2, 2, 1]
    assert manifest["num_steps"] == sum(LENGTHS)
    b = write_dataset(tmp_path / "b", episodes[:2], task="TidyHouse")
    ds = open_dataset([a, b])
    assert ds.num_episodes == len(episodes) + 2
    order = [0, 3, 1, 4, 2]  # round-robin over 3 shards, read shard by shard
    expected = [episodes[i] for i in order] + episodes[:2]
    for i, (steps, meta) in enumerate(expected):
        assert ds.episode_meta(i) == meta
        assert np.array_equal(ds.episode(i, ("head_seg",))["head_seg"], steps["head_seg"])
    indices = np.array([ds.num_steps - 1, 0, LENGTHS[0] + 3])
    flat = np.concatenate([steps["qpos"] for steps, _ in expected])
    assert np.array_equal(ds.steps(indices, ("qpos",))["qpos"], flat[indices])


def test_writer_resumes_and_checks_the_schema(tmp_path, episodes):
    with ShardWriter(tmp_path, 0, task="SetTable") as w:
        w.add_episode(*episodes[0])
    steps, meta = episodes[1]
    w = ShardWriter(tmp_path, 0, task="SetTable")
    assert w.add_episode(steps, meta) == 1
    with pytest.raises(ValueError, match="head_depth"):
        w.add_episode({**steps, "head_depth": steps["head_depth"].astype(np.int16)}, meta)
    with pytest.raises(ValueError, match="qpos"):
        w.add_episode({k: v for k, v in steps.items() if k != "qpos"}, meta)
    with pytest.raises(ValueError, match="length"):
        w.add_episode(steps, {**meta, "length": 3})
    with pytest.raises(ValueError, match="success"):
        w.add_episode(steps, {**meta, "success": 1})
    with pytest.raises(UserError, match="TidyHouse"):
        ShardWriter(tmp_path, 0, task="TidyHouse")
    assert open_dataset(tmp_path).num_episodes == 2


def test_user_errors(tmp_path, dataset):
    with pytest.raises(UserError, match="not a folder"):
        open_dataset(tmp_path / "nope")
    with pytest.raises(UserError, match="no manifest.json"):
        open_dataset(tmp_path)
    ds = open_dataset(dataset)
    with pytest.raises(UserError, match=r"episode 5 out of range.*valid 0\.\.4"):
        ds.episode(5)
    with pytest.raises(UserError, match="step -1 out of range"):
        ds.steps([0, -1])
    copy = shutil.copytree(dataset, tmp_path / "copy")
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 0}))
    with pytest.raises(UserError, match="schema version 0, this hab-aux reads versions 2 and 3$"):
        open_dataset([dataset, copy])
    (copy / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(copy / manifest["shards"][0]["path"])
    with pytest.raises(UserError, match="shard-00000.zarr listed in manifest.json is missing"):
        open_dataset(copy)
