"""`habaux inspect --rerun`: the .rrd file, read back with Rerun's own reader, holds every layer per step."""

import numpy as np
import pytest
from typer.testing import CliRunner

from hab_aux import schema
from hab_aux.cli import app
from hab_aux.errors import UserError
from hab_aux.store import open_dataset

rerun_chunk = pytest.importorskip("rerun.chunk", reason="needs rerun-sdk >= 0.41 (pip install 'hab-aux[interop]')")

runner = CliRunner()
PER_STEP = {  # entity: the archetype logged there every step
    **{f"/{cam}/{layer}": kind for cam in schema.CAMERAS for layer, kind in
       (("rgb", "Image"), ("depth", "DepthImage"), ("seg", "SegmentationImage"), ("mask", "SegmentationImage"))},
    **{f"/action/{name}": "Scalars" for name in schema.ACTION_NAMES},
    **{f"/qpos/{name}": "Scalars" for name in schema.QPOS_NAMES},
    "/flags/is_grasped": "Scalars", "/flags/after_success": "Scalars",
    "/world/base": "Transform3D", "/world/base/target": "Transform3D", "/world/base/tcp": "Transform3D",
}  # fmt: skip


def _read(path) -> tuple[dict[str, list], set[str]]:
    """Per temporal entity its record batches; and the entities logged statically."""
    temporal, static = {}, set()
    for chunk in rerun_chunk.RrdReader(path).stream():
        if chunk.is_static:
            static.add(chunk.entity_path)
        else:
            temporal.setdefault(chunk.entity_path, []).append(chunk.to_record_batch())
    return temporal, static


def test_rrd_holds_every_layer_plot_and_pose_on_one_timeline(dataset, tmp_path):
    out = tmp_path / "episode.rrd"
    result = runner.invoke(app, ["inspect", str(dataset), "--episode", "2", "--rerun", str(out)])
    assert result.exit_code == 0, result.output
    temporal, static = _read(out)
    assert set(PER_STEP) <= set(temporal), set(PER_STEP) - set(temporal)
    length = open_dataset(dataset).meta[2]["length"]
    for entity, kind in PER_STEP.items():
        batches = temporal[entity]
        steps = np.concatenate([b.column("step").to_numpy() for b in batches])
        assert sorted(steps.tolist()) == list(range(length)), entity
        assert any(name.startswith(f"{kind}:") for name in batches[0].schema.names), (entity, batches[0].schema.names)
    assert {"/instruction", "/world/base_path"} <= static
    assert not list(tmp_path.glob(".*partial*"))


def test_plotted_values_are_the_recorded_ones(dataset, tmp_path):
    out = tmp_path / "episode.rrd"
    assert runner.invoke(app, ["inspect", str(dataset), "--episode", "1", "--rerun", str(out)]).exit_code == 0
    temporal, _ = _read(out)
    episode = open_dataset(dataset).episode(1, ("action", "is_grasped"))
    for entity, expected in (("/action/gripper", episode["action"][:, 7]), ("/flags/is_grasped", episode["is_grasped"])):
        batch = temporal[entity][0]
        values = np.array([v[0] for v in batch.column("Scalars:scalars").to_pylist()])
        np.testing.assert_array_equal(values[np.argsort(batch.column("step").to_numpy())], expected.astype(np.float64))


def test_rrd_path_must_end_in_rrd(dataset, tmp_path):
    result = runner.invoke(app, ["inspect", str(dataset), "--rerun", str(tmp_path / "x.mp4")])
    assert isinstance(result.exception, UserError) and "must end in .rrd" in str(result.exception)
