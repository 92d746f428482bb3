"""One episode as a Rerun recording (`habaux inspect DATASET --episode K --rerun FILE.rrd`).

Everything is logged on the timeline `step` (plus `time`, seconds at the control rate), so one
cursor scrubs every camera layer, plot and pose together:

    head/rgb, hand/rgb                  Image
    head/depth, hand/depth              DepthImage (millimetres, meter = 1000)
    head/seg, hand/seg                  SegmentationImage: instance ids
    head/mask, hand/mask                SegmentationImage: the target (class 1, red)
    action/<ACTION_NAMES>               Scalars, 13 plots
    qpos/<QPOS_NAMES>                   Scalars, 15 plots
    flags/is_grasped, flags/after_success  Scalars (0/1)
    world/base                          Transform3D: the base pose (x, y, yaw) in the world
    world/base/target, world/base/tcp   Transform3D: target and TCP poses relative to the base
    world/base_path                     LineStrips3D: where the base went (static)
    instruction                         TextDocument (static)

The file is written under a temporary name and renamed when complete.
"""

import os
from pathlib import Path

import numpy as np

from hab_aux import schema
from hab_aux.errors import UserError, require
from hab_aux.store import Dataset
from hab_aux.tasks import CONTROL_FREQ

AXIS_LENGTH = 0.15  # metres, the drawn axes of each pose


def check_rrd_path(out: Path) -> None:
    if out.suffix != ".rrd":
        raise UserError(f"--rerun file {out} must end in .rrd")
    require("rerun", "interop", "--rerun")


def _blueprint(rrb):
    cameras = [
        rrb.Vertical(
            rrb.Spatial2DView(origin=cam, contents=[f"{cam}/rgb", f"{cam}/seg", f"{cam}/mask"], name=f"{cam}: rgb | seg | mask"),
            rrb.Spatial2DView(origin=cam, contents=[f"{cam}/depth"], name=f"{cam}: depth"),
        )
        for cam in schema.CAMERAS
    ]
    plots = rrb.Vertical(
        rrb.TimeSeriesView(origin="action", name="action (13)"),
        rrb.TimeSeriesView(origin="qpos", name="qpos (15)"),
        rrb.TimeSeriesView(origin="flags", name="is_grasped, after_success"),
    )
    eye = rrb.EyeControls3D(position=[-1.2, -1.6, 1.6], look_target=[0.5, 0.0, 0.6], eye_up=[0, 0, 1])
    poses = rrb.Spatial3DView(origin="world/base", contents="/world/**", name="poses in the base frame", eye_controls=eye)
    time = rrb.TimePanel(timeline="step", fps=CONTROL_FREQ, state="collapsed")
    return rrb.Blueprint(rrb.Horizontal(*cameras, plots, poses), time, collapse_panels=True)


def _pose(rr, pose: np.ndarray):
    """xyz + wxyz (schema convention) as a Rerun transform."""
    w, x, y, z = (float(v) for v in pose[3:])
    return rr.Transform3D(translation=pose[:3], quaternion=rr.Quaternion(xyzw=[x, y, z, w]))


def _log_static(rr, rec, ep: dict[str, np.ndarray], instruction: str) -> None:
    rec.log("instruction", rr.TextDocument(instruction), static=True)
    rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    path = np.column_stack([ep["base_pose"][:, :2], np.zeros(len(ep["base_pose"]))])
    rec.log("world/base_path", rr.LineStrips3D([path]), static=True)
    for entity in ("world/base", "world/base/target", "world/base/tcp"):
        rec.log(entity, rr.TransformAxes3D(AXIS_LENGTH), static=True)
    for cam in schema.CAMERAS:
        target = rr.AnnotationContext([(0, "background", (0, 0, 0, 0)), (1, "target", (255, 0, 0, 160))])
        rec.log(f"{cam}/mask", target, static=True)


def _log_series(rr, rec, ep: dict[str, np.ndarray], steps: np.ndarray) -> None:
    """The plots, sent as columns (one call per series)."""
    times = [rr.TimeColumn("step", sequence=steps), rr.TimeColumn("time", duration=steps / CONTROL_FREQ)]
    series = {f"action/{n}": ep["action"][:, i] for i, n in enumerate(schema.ACTION_NAMES)}
    series |= {f"qpos/{n}": ep["qpos"][:, i] for i, n in enumerate(schema.QPOS_NAMES)}
    series |= {f"flags/{k}": ep[k] for k in ("is_grasped", "after_success")}
    for entity, values in series.items():
        rec.send_columns(entity, indexes=times, columns=rr.Scalars.columns(scalars=values.astype(np.float64)))


def episode_recording(ds: Dataset, episode: int, out: Path) -> Path:
    """Write episode `episode` of `ds` to the .rrd file `out`."""
    check_rrd_path(out)
    rr = require("rerun", "interop", "--rerun")
    import rerun.blueprint as rrb

    ep, meta = ds.episode(episode), ds.episode_meta(episode)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    rec = rr.RecordingStream("hab_aux")
    rec.save(partial, default_blueprint=_blueprint(rrb))
    rec.send_recording_name(f"{ds.roots[0].name} episode {episode}")
    _log_static(rr, rec, ep, meta["instruction"])
    steps = np.arange(len(ep["action"]))
    _log_series(rr, rec, ep, steps)
    for t in steps:
        rec.set_time("step", sequence=int(t))
        rec.set_time("time", duration=t / CONTROL_FREQ)
        for cam in schema.CAMERAS:
            rec.log(f"{cam}/rgb", rr.Image(ep[f"{cam}_rgb"][t]))
            rec.log(f"{cam}/depth", rr.DepthImage(ep[f"{cam}_depth"][t, ..., 0], meter=1000.0))
            rec.log(f"{cam}/seg", rr.SegmentationImage(ep[f"{cam}_seg"][t].astype(np.uint16), opacity=0.3))
            rec.log(f"{cam}/mask", rr.SegmentationImage(ep[f"{cam}_mask"][t].astype(np.uint8), draw_order=1.0))
        x, y, yaw = (float(v) for v in ep["base_pose"][t])
        rec.log("world/base", rr.Transform3D(translation=[x, y, 0.0], rotation=rr.RotationAxisAngle(axis=[0, 0, 1], radians=yaw)))
        rec.log("world/base/target", _pose(rr, ep["target_pose"][t]))
        rec.log("world/base/tcp", _pose(rr, ep["tcp_pose"][t]))
    rec.flush()
    rec.disconnect()
    os.replace(partial, out)
    return out
