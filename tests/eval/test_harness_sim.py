"""The eval harness on the real simulator: columns, JSON, and head | hand | third-person video.

(Every SetTable column resets and steps in tests/generate/test_envs.py; the six-column JSON layout
is checked with a fake env in test_harness.py.)
"""

import json

import imageio.v3 as iio
import pytest

from hab_aux.eval.harness import EvalConfig, evaluate_task
from hab_aux.generate.policies import policy_factory
from hab_aux.eval.report import write_json
from hab_aux.tasks import get_task

pytestmark = pytest.mark.sim


def test_random_policy_on_every_tidyhouse_column(tmp_path):
    task = get_task("TidyHouse")
    config = EvalConfig(episodes=1, max_steps=4, video_dir=tmp_path / "videos")
    rows = evaluate_task(task, {"random": policy_factory("random")}, config)
    write_json(tmp_path / "out.json", task.name, config.split, rows)
    columns = json.loads((tmp_path / "out.json").read_text())["policies"]["random"]["columns"]
    assert list(columns) == ["Pick", "Place"]
    for name, column in columns.items():
        assert column["episodes"] == 1 and column["success_rate"] == 0.0, name
        assert column["failures"][0]["reason"] and column["mean_length"] == 4
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 2 and all(v.with_suffix(".png").is_file() for v in videos)
    frames = iio.imread(videos[0])
    assert frames.shape == (4, 128, 128 * 3, 3)  # head | hand | third person, 4 steps


def test_two_workers_give_the_experts_results_of_one():
    """Each episode depends only on its seeds: splitting a column over processes changes nothing."""
    task, factories = get_task("SetTable"), {"expert": policy_factory("expert")}
    one = evaluate_task(task, factories, EvalConfig(episodes=3), subtasks=("pick",))
    two = evaluate_task(task, factories, EvalConfig(episodes=3, workers=2), subtasks=("pick",))

    def flat(rows):
        return [(e.info, e.success, e.length, e.success_step, e.failure_reason) for e in rows["expert"][0].episodes]

    assert flat(one) == flat(two)
    assert len({e.length for e in one["expert"][0].episodes}) > 1  # three different episodes
