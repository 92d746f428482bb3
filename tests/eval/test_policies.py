"""A trained tiny checkpoint plugs into the eval harness; --head auto picks flow or tokens per column."""

from functools import partial

import numpy as np
import pytest
import torch
from rich.console import Console

from hab_aux.errors import UserError
from hab_aux.eval.harness import EvalConfig, evaluate_task
from hab_aux.eval.policies import checkpoint_factory
from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode
from hab_aux.tasks import get_task
from hab_aux.train.trainer import TrainConfig, train
from tests.eval.fake_env import FakeEnv


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("ckpt")
    with ShardWriter(root / "data", 0, task="SetTable") as writer:
        for i, sub in enumerate(("pick", "place", "open", "close")):
            writer.add_episode(*synthetic_episode(i + 1, steps=10, subtask=sub))
    build_manifest(root / "data")
    config = TrainConfig(data=(str(root / "data"),), out=str(root / "run"), recipe="sgvla-flow", batch_size=2,
                         num_workers=0, schedule="adapt=1,expert=1")  # fmt: skip
    train(config, Console(quiet=True))
    return root / "run"


def test_auto_head_is_flow_for_manipulation_and_tokens_for_articulations(run):
    make = checkpoint_factory(run, "auto")
    columns = {c.name: c for c in get_task("SetTable").columns}
    assert make(None, 0, columns["Pick"]).head == "flow"
    assert make(None, 0, columns["Place"]).head == "flow"
    assert make(None, 0, columns["Open D"]).head == "tokens"
    assert checkpoint_factory(run, "tokens")(None, 0, columns["Pick"]).head == "tokens"


def test_checkpoint_rows_run_through_the_harness(run):
    rows = evaluate_task(get_task("TidyHouse"), {"ckpt": checkpoint_factory(run, "auto")}, EvalConfig(episodes=2, max_steps=3),
                         make_env=partial(FakeEnv, needed=99))  # fmt: skip
    assert [len(c.episodes) for c in rows["ckpt"]] == [2, 2]
    assert all(e.length == 3 and not e.success for c in rows["ckpt"] for e in c.episodes)


def test_flow_head_actions_are_in_range(run):
    policy = checkpoint_factory(run, "flow")(None, 0, get_task("SetTable").columns[0])
    env = FakeEnv("SetTable", "pick")
    obs, infos = env.reset([1], [1])
    policy.reset(infos[0])
    actions = [policy.select_action({k: v[0] for k, v in obs.items()}, "pick the bowl") for _ in range(3)]
    assert all(a.shape == (13,) and a.dtype == np.float32 and np.abs(a).max() <= 1 for a in actions)


def test_unknown_head_is_refused(run):
    with pytest.raises(UserError, match="unknown head 'best'"):
        checkpoint_factory(run, "best")


def test_inference_settings_reach_the_checkpoints_policy(run):
    policy = checkpoint_factory(run, "flow", settings=("flow.execute=5",))(None, 0, get_task("SetTable").columns[0])
    assert policy.head_config.execute == 5
    with pytest.raises(UserError, match="only inference settings"):
        checkpoint_factory(run, "flow", settings=("flow.chunk=4",))
