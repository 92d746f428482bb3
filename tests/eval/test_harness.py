import json
from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from hab_aux.errors import UserError
from hab_aux.eval.harness import EvalConfig, evaluate_task, layout_seeds
from hab_aux.eval.report import write_json
from hab_aux.rollout import run_batch
from hab_aux.policy import ZeroPolicy
from hab_aux.tasks import SPLIT_SEED_RANGES, get_task
from tests.eval.fake_env import FakeEnv
from tests.hab_aux.conftest import episodes, write_dataset  # noqa: F401 (a fixture)


class PushPolicy(ZeroPolicy):
    name = "push"

    def select_action(self, observation, instruction):
        action = super().select_action(observation, instruction)
        action[0] = 1.0
        return action


def test_success_ends_the_episode_at_the_success_step():
    env = FakeEnv("SetTable", "pick", needed=4)
    [result] = run_batch(env, [PushPolicy()], [1], [1])
    assert result.success and result.length == 4 and result.failure_reason == ""


@pytest.mark.parametrize(
    ("subtask", "grasp_until", "collide_at", "reason"),
    [
        ("pick", None, None, "never grasped"),
        ("pick", 3, None, "grasp lost"),
        ("pick", 99, None, "timeout (holding, not at rest)"),
        ("place", 99, None, "timeout (still holding)"),
        ("open", None, None, "handle never grasped"),
        ("close", 2, None, "timeout (joint not far enough)"),
        ("pick", None, 5, "collision"),
    ],
)
def test_failures_are_diagnosed(subtask, grasp_until, collide_at, reason):
    env = FakeEnv("SetTable", subtask, grasp_until=grasp_until, collide_at=collide_at)
    [result] = run_batch(env, [ZeroPolicy()], [1], [1], max_steps=10)
    assert not result.success
    assert result.failure_reason == reason
    assert result.length == (collide_at or 10)


def test_batched_envs_keep_per_env_results():
    env = FakeEnv("SetTable", "pick", num_envs=2, needed=2)
    results = run_batch(env, [PushPolicy(), ZeroPolicy()], [1, 2], [1, 2], max_steps=6)
    assert [r.success for r in results] == [True, False]
    assert [r.length for r in results] == [2, 6]
    assert [r.info.layout_seed for r in results] == [1, 2]


def test_fewer_seeds_than_envs_leave_the_spare_env_alone():
    class Untouchable(ZeroPolicy):
        def reset(self, episode):
            raise AssertionError("a spare sub-env's policy was reset")

    env = FakeEnv("SetTable", "pick", num_envs=2, needed=2)
    results = run_batch(env, [PushPolicy(), Untouchable()], [7], [7], max_steps=4)
    assert env.resets == [[7, 7]]
    assert [(r.info.layout_seed, r.success, r.length) for r in results] == [(7, True, 2)]


def test_settable_report_has_six_columns_in_paper_order(tmp_path):
    task = get_task("SetTable")
    config = EvalConfig(episodes=3)
    rows = evaluate_task(task, {"push": lambda env, k, column: PushPolicy(), "zero": lambda env, k, column: ZeroPolicy()}, config,
                         make_env=partial(FakeEnv, needed=2))  # fmt: skip
    write_json(tmp_path / "out.json", task.name, config.split, rows)
    report = json.loads((tmp_path / "out.json").read_text())
    columns = report["policies"]["push"]["columns"]
    assert list(columns) == ["Pick", "Place", "Open F", "Open D", "Close F", "Close D"]
    assert all(c["episodes"] == 3 and c["success_rate"] == 1.0 and c["mean_length"] == 2 for c in columns.values())
    assert report["policies"]["zero"]["average"] == 0.0
    assert all(len(c["failures"]) == 3 for c in report["policies"]["zero"]["columns"].values())


def test_eval_uses_val_layouts_shared_across_columns_and_batches():
    config = EvalConfig(episodes=5, num_envs=2)
    start, stop = SPLIT_SEED_RANGES["val"]
    assert layout_seeds(config) == list(range(start, start + 5))
    envs = []

    def make_env(*args, **kwargs):
        envs.append(FakeEnv(*args, **kwargs))
        return envs[-1]

    rows = evaluate_task(get_task("TidyHouse"), {"zero": lambda env, k, column: ZeroPolicy()}, config, make_env=make_env)
    assert [len(c.episodes) for c in rows["zero"]] == [5, 5]
    assert envs[0].resets == [[start, start + 1], [start + 2, start + 3], [start + 4, start + 4]]
    assert all(env.closed for env in envs)


def test_video_frames_are_written(tmp_path):
    config = EvalConfig(episodes=1, video_dir=tmp_path)
    evaluate_task(get_task("TidyHouse"), {"push": lambda env, k, column: PushPolicy()}, config, make_env=partial(FakeEnv, needed=3))
    videos = sorted(p.name for p in tmp_path.glob("*.mp4"))
    assert len(videos) == 2 and all(v.endswith("_ok.mp4") for v in videos)
    import imageio.v3 as iio

    frames = iio.imread(tmp_path / videos[0])
    assert frames.shape[0] == 3 and frames.shape[2] == 128 * 2 + 192
    strip = iio.imread((tmp_path / videos[0]).with_suffix(".png"))  # every frame of a 3-step episode, top to bottom
    assert strip.shape == (3 * frames.shape[1], frames.shape[2], 3)
    assert (strip[: frames.shape[1]].astype(int) - frames[0]).__abs__().mean() < 8  # the first frame (mp4 is lossy)


@pytest.mark.parametrize("kwargs", [{"episodes": 0}, {"num_envs": 0}, {"seed": -1}, {"split": "test"}])
def test_bad_config_is_a_user_error(kwargs):
    with pytest.raises(UserError):
        EvalConfig(**kwargs)


class JointFakeEnv(FakeEnv):
    """Reports the labels the simulator adds for open/close and place: a joint opening stuck at
    `fraction` (arm at rest or not), or an object released `distance` m from its goal; and, with
    `gap` = (TCP distance, largest arm joint error, static), how far the arm is from rest."""

    def __init__(self, *args, fraction=0.4, at_rest=False, distance=None, gap=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fraction, self.at_rest, self.distance, self.gap = fraction, at_rest, distance, gap

    def reset(self, layout_seeds, episode_seeds):
        obs, infos = super().reset(layout_seeds, episode_seeds)
        return obs, [replace(i, target_category="drawer") for i in infos]  # open/close name the articulation

    def step(self, actions):
        obs, result = super().step(actions)
        n = self.num_envs
        if self.distance is None:
            result.info = {"joint_fraction": np.full(n, self.fraction), "at_rest": np.full(n, self.at_rest)}
        else:
            result.info = {"goal_distance": np.full(n, self.distance), "at_rest": np.full(n, self.at_rest)}
        if self.gap is not None:
            for key, value in zip(("rest_tcp_distance", "rest_arm_error", "static"), self.gap):
                result.info[key] = np.full(n, value)
        return obs, result


@pytest.mark.parametrize(
    ("subtask", "kwargs", "reason"),
    [
        ("open", dict(fraction=0.4), "timeout (handle never grasped, joint not far enough: opening 0.40)"),
        ("open", dict(fraction=0.95, grasp_until=2), "timeout (joint far enough, arm not at rest: opening 0.95)"),
        ("close", dict(fraction=0.3, at_rest=True), "joint not far enough (opening 0.30 at rest)"),
        ("place", dict(distance=0.4), "released 0.40 m from goal"),
        ("place", dict(distance=0.05), "released on goal, not at rest"),
        ("close", dict(fraction=0.0, gap=(0.12, 0.85, False)),
         "timeout (handle never grasped, joint far enough, arm not at rest: opening 0.00; hand 0.12 m and a joint 0.85 rad from rest, moving)"),
        ("place", dict(distance=0.05, gap=(0.03, 0.3, True)), "released on goal, not at rest; a joint 0.30 rad from rest"),
        ("open", dict(fraction=0.4, gap=(0.12, 0.85, False)), "timeout (handle never grasped, joint not far enough: opening 0.40)"),
    ],
)
def test_failures_name_the_joint_opening_or_goal_distance(subtask, kwargs, reason):
    env = JointFakeEnv("SetTable", subtask, **kwargs)
    [result] = run_batch(env, [ZeroPolicy()], [1], [1], max_steps=10)
    assert result.failure_reason == reason


def test_subtasks_select_columns():
    rows = evaluate_task(get_task("SetTable"), {"zero": lambda env, k, column: ZeroPolicy()}, EvalConfig(episodes=1),
                         make_env=FakeEnv, subtasks=("open",))  # fmt: skip
    assert [c.column for c in rows["zero"]] == ["Open F", "Open D"]


class RecordingEnv(FakeEnv):
    """FakeEnv that reports its resets to a shared list (envs are made inside the harness)."""

    seen: list[tuple[str, int, int]] = []

    def reset(self, layout_seeds, episode_seeds):
        RecordingEnv.seen += [(self.subtask, s, e) for s, e in zip(layout_seeds, episode_seeds)]
        return super().reset(layout_seeds, episode_seeds)


def test_episodes_from_runs_the_recorded_layouts_and_episode_seeds(tmp_path, episodes):
    root = write_dataset(tmp_path / "ds", episodes)  # SetTable pick bowl (seed 0), open fridge (1), pick apple (4)
    RecordingEnv.seen = []
    config = EvalConfig(episodes=5, episodes_from=root)
    rows = evaluate_task(get_task("SetTable"), {"zero": _zero}, config, make_env=RecordingEnv,
                         subtasks=("pick", "open-fridge"))  # fmt: skip
    recorded = {(m["subtask"], m["layout_seed"], m["episode_seed"]) for _, m in episodes if m["task"] == "SetTable"}
    assert set(RecordingEnv.seen) == recorded and len(RecordingEnv.seen) == 3
    assert [len(c.episodes) for c in rows["zero"]] == [2, 1]
    assert "recorded episodes of" in config.source
    write_json(tmp_path / "r.json", "SetTable", config.split, rows, config.source)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["split"] is None and report["episodes"].startswith("recorded episodes of")


def test_episodes_from_a_column_the_dataset_lacks_names_what_it_holds(tmp_path, episodes):
    root = write_dataset(tmp_path / "ds", episodes)
    with pytest.raises(UserError, match="holds no SetTable close-drawer episodes; it holds: pick, open-fridge"):
        evaluate_task(get_task("SetTable"), {"zero": _zero}, EvalConfig(episodes_from=root), make_env=FakeEnv,
                      subtasks=("close-drawer",))  # fmt: skip


def _zero(env, k, column):
    return ZeroPolicy()


def _push(env, k, column):
    return PushPolicy()


def test_workers_give_the_results_of_one_process():
    config = EvalConfig(episodes=5)
    make_env = partial(FakeEnv, needed=2)
    factories = {"push": _push, "zero": _zero}
    one = evaluate_task(get_task("TidyHouse"), factories, config, make_env=make_env)
    two = evaluate_task(get_task("TidyHouse"), factories, replace(config, workers=2), make_env=make_env)

    def flat(rows):
        return [(n, c.column, e.info, e.success, e.length, e.failure_reason) for n, cols in rows.items() for c in cols for e in c.episodes]

    assert flat(one) == flat(two) and len(flat(one)) == 20
