"""Store round trip, multi-shard datasets, manifests, random access and user errors."""

import json
import shutil

import numpy as np
import pytest

from hab_aux import schema
from hab_aux.errors import UserError
from hab_aux.store import ShardWriter, build_manifest, open_dataset
from tests.hab_aux.conftest import LENGTHS, write_dataset


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


def test_random_access_matches_concatenation(dataset, episodes):
    ds = open_dataset(dataset)
    indices = np.random.default_rng(1).integers(0, ds.num_steps, 64)
    batch = ds.steps(indices, keys=("head_rgb", "hand_mask", "qpos", "is_grasped"))
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
    with pytest.raises(UserError, match="schema version 0"):
        open_dataset([dataset, copy])
    (copy / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(copy / manifest["shards"][0]["path"])
    with pytest.raises(UserError, match="shard-00000.zarr listed in manifest.json is missing"):
        open_dataset(copy)
