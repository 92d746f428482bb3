"""`habaux export --format lerobot` on a 2-episode synthetic dataset, read back with pyarrow and PyAV.

The same export loaded by LeRobot itself: test_export_lerobot_interop.py.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hab_aux import schema
from hab_aux.cli import app
from hab_aux.errors import Fault, UserError
from hab_aux.export import features as F
from hab_aux.export.stats import QUANTILES, _column_stats
from hab_aux.store import open_dataset
from tests.hab_aux.conftest import write_dataset

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
av = pytest.importorskip("av")

runner = CliRunner()
# Video is lossy: every decoded frame is within this mean absolute error (of 255) of ours.
RGB_TOLERANCE, DEPTH_TOLERANCE = 4.0, 2.0
LABELS = {  # LeRobot key: schema key, stored exactly
    "observation.state": "qpos", "action": "action", "label.base_pose": "base_pose", "label.is_grasped": "is_grasped",
    "label.target_pose": "target_pose", "label.tcp_pose": "tcp_pose", "after_success": "after_success",
    "label.head_seg": "head_seg", "label.head_mask": "head_mask", "label.hand_seg": "hand_seg", "label.hand_mask": "hand_mask",
}  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory, episodes) -> tuple[Path, Path]:
    """(dataset, export) of two episodes, 73 and 130 steps, with different instructions."""
    root = tmp_path_factory.mktemp("export")
    dataset = write_dataset(root / "ds", episodes[:2])
    result = runner.invoke(app, ["export", str(dataset), "--format", "lerobot", "--out", str(root / "lerobot")])
    assert result.exit_code == 0, result.output
    return dataset, root / "lerobot"


def _source(dataset: Path, key: str) -> np.ndarray:
    ds = open_dataset(dataset)
    return np.concatenate([ds.episode(i, (key,))[key] for i in range(ds.num_episodes)])


def test_info_names_every_feature_with_its_shape(exported):
    info = json.loads((exported[1] / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 20
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (2, 73 + 130, 2)
    features = info["features"]
    for cam in schema.CAMERAS:
        for name in (f"observation.images.{cam}", f"observation.images.{cam}_depth"):
            assert features[name]["dtype"] == "video" and features[name]["shape"] == [128, 128, 3]
            assert features[name]["info"]["video.codec"] == "h264" and features[name]["info"]["video.fps"] == 20
        assert features[f"label.{cam}_mask"] == {"dtype": "bool", "shape": [128, 128], "names": ["height", "width"]}
    assert "tanh" in features["observation.images.head_depth"]["info"]["hab_aux.depth_encoding"]
    assert features["observation.state"] == {"dtype": "float32", "shape": [15], "names": list(schema.QPOS_NAMES)}
    assert features["action"] == {"dtype": "float32", "shape": [13], "names": list(schema.ACTION_NAMES)}
    assert features["label.is_grasped"]["shape"] == [1]
    for name in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert features[name]["shape"] == [1]
    assert {f.source for f in F.FEATURES} == set(schema.STEP_KEYS)  # every step key is exported


def test_frames_keep_episode_boundaries_and_exact_labels(exported):
    dataset, out = exported
    table = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet")
    assert table.num_rows == 203
    assert table.column("episode_index").to_pylist() == [0] * 73 + [1] * 130
    assert table.column("frame_index").to_pylist() == list(range(73)) + list(range(130))
    assert table.column("index").to_pylist() == list(range(203))
    assert table.column("task_index").to_pylist() == [0] * 73 + [1] * 130
    np.testing.assert_allclose(table.column("timestamp").to_numpy(), table.column("frame_index").to_numpy() / 20, atol=1e-6)
    assert isinstance(table.schema.field("action").type, pa.FixedSizeListType)
    for name, key in LABELS.items():
        ours = _source(dataset, key)
        theirs = np.array(table.column(name).to_pylist(), dtype=ours.dtype)
        assert np.array_equal(theirs, ours), name


def test_episodes_and_tasks_say_where_each_episode_is(exported):
    dataset, out = exported
    episodes = pq.read_table(out / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    instructions = [m["instruction"] for m in open_dataset(dataset).meta]
    assert [(e["dataset_from_index"], e["dataset_to_index"], e["length"]) for e in episodes] == [(0, 73, 73), (73, 203, 130)]
    assert [e["tasks"] for e in episodes] == [[s] for s in instructions]
    assert [e["videos/observation.images.hand/from_timestamp"] for e in episodes] == [0.0, 73 / 20]
    assert [e["videos/observation.images.hand/to_timestamp"] for e in episodes] == [73 / 20, 203 / 20]
    assert episodes[1]["hab_aux/subtask"] == "open" and episodes[1]["hab_aux/success_step"] == 127
    assert len(episodes[0]["stats/observation.state/mean"]) == 15
    tasks = pq.read_table(out / "meta" / "tasks.parquet")
    assert tasks.column("__index_level_0__").to_pylist() == instructions
    assert b"__index_level_0__" in tasks.schema.metadata[b"pandas"]  # pandas makes the tasks its index


def _decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return np.stack([f.to_ndarray(format="rgb24") for f in frames]), np.array([float(f.pts * f.time_base) for f in frames])


@pytest.mark.parametrize("cam", schema.CAMERAS)
def test_videos_hold_every_frame_at_its_timestamp(exported, cam):
    dataset, out = exported
    rgb, times = _decode(out / "videos" / f"observation.images.{cam}" / "chunk-000" / "file-000.mp4")
    np.testing.assert_allclose(times, np.arange(203) / 20, atol=1e-6)
    error = np.abs(rgb.astype(np.int16) - _source(dataset, f"{cam}_rgb")).mean(axis=(1, 2, 3))
    assert error.max() < RGB_TOLERANCE, error.max()
    depth, _ = _decode(out / "videos" / f"observation.images.{cam}_depth" / "chunk-000" / "file-000.mp4")
    expected = F.depth_to_video(_source(dataset, f"{cam}_depth"))
    error = np.abs(depth.astype(np.int16) - expected).mean(axis=(1, 2, 3))
    assert error.max() < DEPTH_TOLERANCE, error.max()
    near = expected[..., 0] > 100  # within ~1.2 m the decoded depth is within a few cm
    decoded_mm = F.video_to_depth(depth)[near]
    assert np.median(np.abs(decoded_mm - _source(dataset, f"{cam}_depth")[..., 0][near])) < 20


def test_stats_are_lerobots_keys_and_shapes(exported):
    dataset, out = exported
    stats = json.loads((out / "meta" / "stats.json").read_text())
    info = json.loads((out / "meta" / "info.json").read_text())
    assert set(stats) == set(info["features"])
    keys = {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"}
    assert all(set(s) == keys and s["count"] == [203] for s in stats.values())
    assert np.array(stats["observation.images.head"]["mean"]).shape == (3, 1, 1)
    assert np.array(stats["label.head_mask"]["mean"]).shape == (1,)
    action = _source(dataset, "action")
    np.testing.assert_allclose(stats["action"]["mean"], action.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(stats["action"]["std"], action.std(axis=0), atol=1e-6)
    np.testing.assert_allclose(stats["action"]["min"], action.min(axis=0))
    rgb = _source(dataset, "head_rgb").reshape(-1, 3)
    np.testing.assert_allclose(np.ravel(stats["observation.images.head"]["mean"]), rgb.mean(axis=0) / 255, atol=1e-9)


def test_integer_quantiles_equal_numpys():
    rng = np.random.default_rng(0)
    for column in (rng.integers(-3, 50, 1001).astype(np.int16), rng.random(500) > 0.7, rng.integers(0, 256, 999).astype(np.uint8)):
        low, high, mean, std, *quantiles = _column_stats(column)
        assert (low, high) == (column.min(), column.max())
        np.testing.assert_allclose([mean, std], [column.mean(), column.std()])
        np.testing.assert_allclose(quantiles, np.quantile(column.astype(float), QUANTILES))


def test_a_full_output_is_refused_and_overwrite_replaces_it_only_when_done(exported, tmp_path, monkeypatch):
    dataset, _ = exported
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["export", str(dataset), "--out", str(out)])
    assert isinstance(result.exception, UserError) and "--overwrite" in str(result.exception)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr("hab_aux.export.lerobot.write_tasks", disk_full)
    result = runner.invoke(app, ["export", str(dataset), "--out", str(out), "--overwrite"])
    assert isinstance(result.exception, Fault) and "unchanged" in str(result.exception)
    assert (out / "keep.txt").read_text() == "mine" and os.listdir(tmp_path) == ["out"]  # no partial folder left
    monkeypatch.undo()
    assert runner.invoke(app, ["export", str(dataset), "--out", str(out), "--overwrite"]).exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "meta" / "info.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_an_output_overlapping_the_dataset_is_refused(exported):
    dataset, _ = exported
    for out in (dataset, dataset / "lerobot", dataset.parent):
        result = runner.invoke(app, ["export", str(dataset), "--out", str(out), "--overwrite"])
        assert isinstance(result.exception, UserError) and "overlaps the dataset" in str(result.exception)
    assert (dataset / "manifest.json").exists()


def test_a_missing_library_names_the_extra(monkeypatch):
    from hab_aux.export.lerobot import check_libraries

    monkeypatch.setitem(__import__("sys").modules, "av", None)
    with pytest.raises(UserError, match=r"needs av: pip install 'hab-aux\[interop\]'"):
        check_libraries()
