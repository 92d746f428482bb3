"""A hab-aux dataset as a LeRobotDataset v3 folder (`habaux export DATASET --format lerobot`).

What LeRobot (>= 0.4, codebase v3.0) reads, as its lerobot_dataset.py writes it:

    meta/info.json                          fps, features (features.py), totals, file layout
    meta/stats.json                         per-feature statistics (stats.py)
    meta/tasks.parquet                      a task_index per task; the task is the instruction
    meta/episodes/chunk-000/file-000.parquet  per episode: where its frames are, its statistics,
                                            and hab-aux's episode meta as `hab_aux/<key>`
    data/chunk-XXX/file-YYY.parquet         one row per frame (parquet.py)
    videos/KEY/chunk-XXX/file-YYY.mp4       the camera and depth videos (video.py)

Episode K of the export is episode K of the dataset (`open_dataset` order), and frame i of it is
step i. LeRobot's own writer (LeRobotDataset.create/add_frame/save_episode) is not used: lerobot
pins torch < 2.11, which cannot live beside hab-aux's training stack; tests load the result with
LeRobotDataset in a separate environment (scripts/lerobot_env.sh).
"""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hab_aux import schema
from hab_aux.errors import UserError, require
from hab_aux.export import features as F
from hab_aux.export.files import (
    CHUNKS_SIZE, DATA_FILES_SIZE_IN_MB, DATA_PATH, EPISODES_PATH, VIDEO_FILES_SIZE_IN_MB, VIDEO_PATH,
)
from hab_aux.export.parquet import DataWriter, column, write_rows, write_tasks
from hab_aux.export.stats import aggregate, feature_stats
from hab_aux.export.video import CODEC, CRF, GOP, PIX_FMT, VideoSeries, video_info
from hab_aux.store import Dataset
from hab_aux.tasks import CONTROL_FREQ

ALL_FEATURES = F.FEATURES + F.INDEX_FEATURES


def check_libraries() -> None:
    for module in ("pyarrow", "av"):
        require(module, "interop", "habaux export")


def _index_values(episode: int, start: int, length: int, task_index: int, fps: int) -> dict[str, np.ndarray]:
    frame = np.arange(length, dtype=np.int64)
    return {
        "timestamp": (frame / fps).astype(np.float32),
        "frame_index": frame,
        "episode_index": np.full(length, episode, np.int64),
        "index": start + frame,
        "task_index": np.full(length, task_index, np.int64),
    }


def _info(ds: Dataset, episodes: int, frames: int, tasks: int, root: Path, fps: int) -> dict:
    features = {f.name: f.info() for f in ALL_FEATURES}
    for f in F.VIDEO_FEATURES:
        info = video_info(root / VIDEO_PATH.format(video_key=f.name, chunk_index=0, file_index=0), fps)
        features[f.name]["info"] = info | ({"hab_aux.depth_encoding": F.DEPTH_ENCODING} if f.source.endswith("_depth") else {})
    return {
        "codebase_version": F.CODEBASE_VERSION,
        "robot_type": F.ROBOT_TYPE,
        "total_episodes": episodes,
        "total_frames": frames,
        "total_tasks": tasks,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILES_SIZE_IN_MB,
        "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
        "fps": fps,
        "splits": {"train": f"0:{episodes}"},  # as LeRobot writes it; hab-aux's split is per episode
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features,
        "hab_aux": {
            "source": [str(r) for r in ds.roots],
            "schema_version": schema.SCHEMA_VERSION,
            "video": f"{CODEC}, {PIX_FMT}, keyframe every {GOP} frames, crf {CRF}",
            "labels": "label.* are hab-aux's auxiliary labels, stored losslessly; see hab_aux/schema.py",
            "episode_meta": "meta/episodes columns hab_aux/<key>: hab-aux's per-episode keys",
        },
    }


def export_lerobot(ds: Dataset, root: Path, on_episode: Callable[[int], None] | None = None) -> dict:
    """Write every episode of `ds` into the empty folder `root`; return meta/info.json's content."""
    import pyarrow as pa

    if ds.num_episodes == 0:
        raise UserError(f"{', '.join(map(str, ds.roots))} holds no episodes: nothing to export")
    fps = CONTROL_FREQ
    data = DataWriter(root)
    videos = {f.name: VideoSeries(root, f.name, fps) for f in F.VIDEO_FEATURES}
    tasks: dict[str, int] = {}
    rows, per_episode = [], {f.name: [] for f in ALL_FEATURES}
    frames = 0
    try:
        for k in range(ds.num_episodes):
            steps, meta = ds.episode(k), ds.episode_meta(k)
            length = len(steps["action"])
            task_index = tasks.setdefault(meta["instruction"], len(tasks))
            values = {f.name: f.values(steps) for f in F.FEATURES}
            values |= _index_values(k, frames, length, task_index, fps)
            table = pa.table({f.name: column(f, values[f.name]) for f in F.DATA_FEATURES + F.INDEX_FEATURES})
            row = {"episode_index": k, "tasks": [meta["instruction"]], "length": length}
            row |= {f"data/{key}": v for key, v in data.add_episode(table).items()}
            row |= {"dataset_from_index": frames, "dataset_to_index": frames + length}
            for f in F.VIDEO_FEATURES:
                row |= {f"videos/{f.name}/{key}": v for key, v in videos[f.name].add_episode(values[f.name]).items()}
            for f in ALL_FEATURES:
                per_episode[f.name].append(feature_stats(f, values[f.name]))
                row |= {f"stats/{f.name}/{key}": v.tolist() for key, v in per_episode[f.name][-1].items()}
            row |= {"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
            rows.append(row | {f"hab_aux/{key}": v for key, v in meta.items()})
            frames += length
            if on_episode:
                on_episode(k)
    finally:
        data.close()
        for video in videos.values():
            video.close()
    write_rows(root / EPISODES_PATH.format(chunk_index=0, file_index=0), rows)
    write_tasks(root / "meta" / "tasks.parquet", list(tasks))
    stats = {name: {key: v.tolist() for key, v in aggregate(s).items()} for name, s in per_episode.items()}
    (root / "meta" / "stats.json").write_text(json.dumps(stats, indent=4))
    info = _info(ds, ds.num_episodes, frames, len(tasks), root, fps)
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=4, ensure_ascii=False))
    return info
