"""`--policy mshab-rl`: MS-HAB's own RL checkpoints rolled out through our recorder, against the
fake MS-HAB of `mshab_fakes.py`: which checkpoint each episode reads, which agent class is built
with which sizes, what the agent sees, which of its actions reach the env, which episodes are kept,
what the data card says, and that every missing piece is one line. No real checkpoint runs here.
"""

import importlib.util
import os
import pickle

import numpy as np
import pytest
import yaml

from hab_aux.commands.card import render_card
from hab_aux.errors import UserError
from hab_aux.generate.envs import make_mshab_env
from hab_aux.generate.envs.mshab_checkpoints import check_checkpoints, checkpoint_object, checkpoints_root, find_checkpoint
from hab_aux.generate.envs.mshab_rl import MSHABRLFactory
from hab_aux.generate.plan import GenerateConfig, attempt
from hab_aux.generate.policies import policy_factory
from hab_aux.generate.recorder import record_batch
from hab_aux.generate.worker import WorkerJob, run_worker
from hab_aux.policy import ZeroPolicy
from hab_aux.schema import ACTION_DIM, IMAGE_SIZE
from hab_aux.store import open_dataset
from hab_aux.tasks import Column
from tests.generate.mshab_fakes import (SAC_CONFIG, STATE_DIM, FakeAgents, FakeLabeller, FakeMSHABEnv, expected_state,
                                        habaux, install_fake_mshab, one_line_error, pick_plans, write_assets,
                                        write_checkpoint)  # fmt: skip

HEAD = [8, 9]  # head_pan, head_tilt: MS-HAB keeps the head still
SAC_SIZES = {
    "actor_hidden_dims": [64, 32], "critic_hidden_dims": [48], "critic_layer_norm": True, "critic_dropout": None,
    "encoder_pixels_feature_dim": 20, "encoder_state_feature_dim": 10, "cnn_features": [8, 16], "cnn_filters": [3, 3],
    "cnn_strides": [2, 2], "cnn_padding": "valid", "log_std_min": -20, "log_std_max": 2,
}  # fmt: skip


def one_line(err: pytest.ExceptionInfo) -> str:
    assert "\n" not in str(err.value)
    return str(err.value)


def still_head(action) -> np.ndarray:
    action = np.array(action, np.float32)
    action[HEAD] = 0.0
    return action


@pytest.mark.parametrize(
    "task, column, target, relative",
    [
        ("SetTable", Column("Pick", "pick"), "013_apple-3", "set_table/pick/013_apple"),
        ("TidyHouse", Column("Place", "place"), "002_master_chef_can-0", "tidy_house/place/002_master_chef_can"),
        ("PrepareGroceries", Column("Pick", "pick"), "003_cracker_box-12", "prepare_groceries/pick/003_cracker_box"),
        ("SetTable", Column("Open D", "open", "drawer"), "kitchen_counter-0", "set_table/open/kitchen_counter"),
        ("SetTable", Column("Close F", "close", "fridge"), "fridge-1", "set_table/close/fridge"),
    ],
)
def test_each_episode_reads_the_checkpoint_of_its_task_subtask_and_object(tmp_path, task, column, target, relative):
    write_checkpoint(tmp_path, relative, "ppo", np.zeros(ACTION_DIM))
    checkpoint = find_checkpoint(tmp_path, task, column.subtask, checkpoint_object(column, target))
    assert checkpoint.folder == tmp_path / "rl" / relative and checkpoint.weights == checkpoint.folder / "policy.pt"
    assert checkpoint.algo == "ppo" and checkpoint.sizes == {}  # PPO's network is sized by the observation alone


def test_sac_sizes_come_from_config_and_each_missing_checkpoint_piece_is_one_line(tmp_path):
    folder = write_checkpoint(tmp_path, "set_table/pick/024_bowl", "sac", np.zeros(ACTION_DIM))
    checkpoint = find_checkpoint(tmp_path, "SetTable", "pick", "024_bowl")
    assert checkpoint.algo == "sac" and checkpoint.sizes == SAC_SIZES

    with pytest.raises(UserError) as err:
        find_checkpoint(tmp_path, "SetTable", "pick", "013_apple")
    assert f"no MS-HAB checkpoint for SetTable pick 013_apple: {tmp_path}/rl/set_table/pick/013_apple lacks config.yml, policy.pt" in one_line(err)
    assert f'huggingface-cli download arth-shukla/mshab_checkpoints --include "rl/set_table/pick/013_apple/*" --local-dir {tmp_path}' in one_line(err)

    config = yaml.safe_load((folder / "config.yml").read_text())
    del config["algo"]["cnn_strides"]
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(UserError) as err:
        find_checkpoint(tmp_path, "SetTable", "pick", "024_bowl")
    assert "config.yml lacks algo.cnn_strides, which size its sac network" in one_line(err)

    (folder / "config.yml").write_text(yaml.safe_dump({"algo": {"name": "bc"}}))
    with pytest.raises(UserError) as err:
        find_checkpoint(tmp_path, "SetTable", "pick", "024_bowl")
    assert f"{folder}/config.yml names algorithm 'bc' (algo.name); --policy mshab-rl runs MS-HAB's RL checkpoints: ppo, sac" in one_line(err)

    (folder / "policy.pt").unlink()
    with pytest.raises(UserError) as err:
        find_checkpoint(tmp_path, "SetTable", "pick", "024_bowl")
    assert f"{folder} lacks policy.pt; download it" in one_line(err)

    # before any env: each column's subtask folder, and an open/close column's own checkpoint
    check_checkpoints(tmp_path, "SetTable", (Column("Pick", "pick"),))
    with pytest.raises(UserError) as err:
        check_checkpoints(tmp_path, "SetTable", (Column("Pick", "pick"), Column("Place", "place")))
    assert f"no MS-HAB checkpoints for SetTable place: {tmp_path}/rl/set_table/place is missing" in one_line(err)
    assert '--include "rl/set_table/place/*"' in one_line(err)
    with pytest.raises(UserError, match="no MS-HAB checkpoint for SetTable close kitchen_counter"):
        check_checkpoints(tmp_path, "SetTable", (Column("Close D", "close", "drawer"),))


def test_the_checkpoints_folder_is_the_option_else_mshabs_default_else_the_working_folder(tmp_path, monkeypatch):
    import hab_aux.generate.envs.mshab_checkpoints as checkpoints

    monkeypatch.setattr(checkpoints, "asset_root", lambda: tmp_path / "ms" / "data")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(UserError) as err:
        checkpoints_root(None)
    default = tmp_path / "ms" / "data" / "mshab_checkpoints"
    assert f"found neither {default} nor ./mshab_checkpoints" in one_line(err)
    assert f"huggingface-cli download arth-shukla/mshab_checkpoints --local-dir {default}" in one_line(err)
    (tmp_path / "work" / "mshab_checkpoints").mkdir()
    assert checkpoints_root(None) == tmp_path / "work" / "mshab_checkpoints"
    default.mkdir(parents=True)
    assert checkpoints_root(None) == default  # MS-HAB's asset dir first, as its gen_data looks
    assert checkpoints_root(tmp_path / "work") == tmp_path / "work"
    with pytest.raises(UserError, match="--mshab-checkpoints .*/nowhere is not a folder"):
        checkpoints_root(tmp_path / "nowhere")


def test_a_rollout_feeds_sac_mshabs_observation_and_executes_its_mean_action(monkeypatch, tmp_path):
    agents = FakeAgents()
    made = install_fake_mshab(monkeypatch, tmp_path, pick_plans("013_apple-0", "013_apple-1", "024_bowl-0"), agents,
                              success_from=2, collide=False)  # fmt: skip
    mu = np.linspace(-2.0, 2.0, ACTION_DIM)
    sac = write_checkpoint(tmp_path / "checkpoints", "set_table/pick/013_apple", "sac", mu)
    config = GenerateConfig.parse("SetTable", "pick", world="mshab", policy="mshab-rl", max_steps=5, settle_steps=2,
                                  mshab_checkpoints=str(tmp_path / "checkpoints"))  # fmt: skip
    env = make_mshab_env("SetTable", "pick")
    policy = policy_factory(config.policy, config.mshab_checkpoints)(env, 0, config.columns[0])
    (episode,) = record_batch(env, [policy], [attempt(config, 0, 0)], config)  # layout seed 0: scene 3, an apple

    assert episode.meta["target_name"].startswith("013_apple") and episode.meta["expert"] == f"mshab-rl sac {sac}"
    # MS-HAB's SAC agent, built as gen_data builds it: frames merged into channels, sizes from config.yml
    ((algo, built),) = agents.built
    assert algo == "sac" and list(built["pixels_obs_space"]) == ["fetch_hand_depth", "fetch_head_depth"]
    assert all(space.shape == (3, IMAGE_SIZE, IMAGE_SIZE) for space in built["pixels_obs_space"].values())
    assert built["state_obs_shape"] == (STATE_DIM,) and built["action_shape"] == (ACTION_DIM,)
    assert {k: v for k, v in built.items() if k in SAC_SIZES} == SAC_SIZES and str(built["device"]) == "cpu"
    # what it saw at steps 1..4: the last 3 depth frames (the reset frame repeated), and the flat state
    assert episode.meta["success"] and episode.meta["length"] == len(agents.asked) == 4
    for t, (algo, seen, flags) in enumerate(agents.asked):
        assert flags == {"compute_pi": False, "compute_log_pi": False}  # the actor's mean, no sampling
        frames = [max(t - 2, 0), max(t - 1, 0), t]
        for key, camera in (("fetch_head_depth", 0), ("fetch_hand_depth", 1)):
            pixels = seen["pixels"][key]
            assert pixels.shape == (1, 3, 1, IMAGE_SIZE, IMAGE_SIZE) and pixels.dtype.is_floating_point
            assert [float(pixels[0, i, 0, 5, 7]) for i in range(3)] == [100 * f + 10 + camera for f in frames]
        np.testing.assert_array_equal(seen["state"].numpy(), expected_state(t)[None])
    # its tanh-squashed mean, the head kept still, is what the env executes and what is recorded
    expected = still_head(np.tanh(mu))
    np.testing.assert_allclose(np.concatenate(made[0].actions), np.tile(expected, (4, 1)), rtol=1e-6)
    np.testing.assert_allclose(episode.steps["action"], np.tile(expected, (4, 1)), rtol=1e-6)
    assert "mshab_state" not in episode.steps


@pytest.mark.parametrize(
    "subtask, articulation, label, keeps",
    [
        ("pick", None, "straightforward_success", None),
        ("pick", None, "winding_success", "straightforward_success"),
        ("place", None, "placed_in_goal_success", None),
        ("place", None, "dropped_to_goal_success", "placed_in_goal_success"),
        ("open", "drawer", "open_success", None),
        ("close", "fridge", "success_then_excessive_collisions", None),
        ("close", "drawer", "success_then_excessive_collisions", "closed_success"),
    ],
)
def test_generation_keeps_a_success_only_if_mshabs_gen_data_keeps_its_label(monkeypatch, tmp_path, subtask, articulation, label, keeps):
    labeller = FakeLabeller(label)
    plans = [pick_plans("024_bowl-0")[0]] * 3
    for plan in plans:
        plan.subtasks[0].articulation_id = "fridge-0"
    install_fake_mshab(monkeypatch, tmp_path, plans, labeller=labeller, success_from=2, collide=False)
    column = subtask if articulation is None else f"{subtask}-{articulation}"
    config = GenerateConfig.parse("SetTable", column, world="mshab", policy="zero", max_steps=5, settle_steps=1)
    env = make_mshab_env("SetTable", subtask, articulation)
    (episode,) = record_batch(env, [ZeroPolicy()], [attempt(config, 0, 0)], config)

    assert episode.meta["success"] is (keeps is None) and episode.result.success is (keeps is None)
    assert episode.meta["failure_reason"] == ("" if keeps is None else f"MS-HAB label {label} (its data generation keeps {keeps})")
    # MS-HAB's labeller saw its task configs and the recorded steps, the reset excluded
    ((task_cfgs, success, infos),) = labeller.calls
    assert task_cfgs is FakeMSHABEnv.task_cfgs and success.tolist() == [False, True, True]
    assert infos["robot_force"].tolist() == [0.5, 1.0, 1.5]


def test_a_failed_episode_is_not_labelled(monkeypatch, tmp_path):
    labeller = FakeLabeller()
    install_fake_mshab(monkeypatch, tmp_path, pick_plans("024_bowl-0", "024_bowl-1", "024_bowl-2"), labeller=labeller,
                       success_from=99, collide=False)  # fmt: skip
    config = GenerateConfig.parse("SetTable", "pick", world="mshab", policy="zero", max_steps=3)
    (episode,) = record_batch(make_mshab_env("SetTable", "pick"), [ZeroPolicy()], [attempt(config, 0, 0)], config)
    assert not episode.meta["success"] and episode.meta["failure_reason"] == "never grasped" and not labeller.calls


def test_generate_records_each_objects_checkpoint_and_the_card_names_it(monkeypatch, tmp_path):
    """A worker run as `habaux generate --world mshab --policy mshab-rl` makes it: two objects, two
    algorithms; the first attempt's label is not one MS-HAB keeps, so that slot is tried again."""
    agents = FakeAgents()
    made = install_fake_mshab(monkeypatch, tmp_path, pick_plans("013_apple-0", "013_apple-1", "024_bowl-0"), agents,
                              labeller=FakeLabeller("winding_success"), success_from=2, collide=False)  # fmt: skip
    root = tmp_path / "checkpoints"
    mu, bias = np.linspace(-2.0, 2.0, ACTION_DIM), np.linspace(-1.5, 1.5, ACTION_DIM)
    sac = write_checkpoint(root, "set_table/pick/013_apple", "sac", mu)
    ppo = write_checkpoint(root, "set_table/pick/024_bowl", "ppo", bias)
    config = GenerateConfig.parse("SetTable", "pick", world="mshab", policy="mshab-rl", max_steps=5, settle_steps=2,
                                  mshab_checkpoints=str(root))  # fmt: skip
    out = tmp_path / "ds"
    progress = run_worker(WorkerJob(str(out), 0, config.to_json(), {0: 0, 1: 0}, command="habaux generate --world mshab --policy mshab-rl"))

    rejected = "MS-HAB label winding_success (its data generation keeps straightforward_success)"
    assert (progress["attempted"], progress["kept"], progress["failures"]) == (3, 2, {rejected: 1})
    data = open_dataset(out)
    by_object = {m["target_category"]: (m["expert"], data.episode(i)["action"]) for i, m in enumerate(data.meta)}
    assert set(by_object) == {"apple", "bowl"}
    sac_action, ppo_action = still_head(np.tanh(mu)), still_head(np.clip(bias, -1.0, 1.0))  # the env clips PPO's mean
    assert by_object["apple"][0] == f"mshab-rl sac {sac}" and by_object["bowl"][0] == f"mshab-rl ppo {ppo}"
    np.testing.assert_allclose(by_object["apple"][1], np.tile(sac_action, (4, 1)), rtol=1e-6)
    np.testing.assert_allclose(by_object["bowl"][1], np.tile(ppo_action, (4, 1)), rtol=1e-6)
    # the env executed them: two apple attempts (the first rejected), then the bowl
    np.testing.assert_allclose(np.concatenate(made[0].actions), [sac_action] * 8 + [ppo_action] * 4, rtol=1e-6)
    # each checkpoint loaded once; PPO built from an observation in FrameStack's key order, acting deterministically
    assert [algo for algo, _ in agents.built] == ["sac", "ppo"]
    sample = agents.built[1][1]["sample_obs"]
    assert list(sample["pixels"]) == ["fetch_head_depth", "fetch_hand_depth"] and agents.built[1][1]["single_act_shape"] == (ACTION_DIM,)
    assert sample["pixels"]["fetch_head_depth"].shape == (1, 3, 1, IMAGE_SIZE, IMAGE_SIZE) and sample["state"].shape == (1, STATE_DIM)
    assert {tuple(flags.items()) for algo, _, flags in agents.asked if algo == "ppo"} == {(("deterministic", True),)}

    card = render_card(out)
    assert f"| pick | apple | `mshab-rl sac {sac}` | 1 |" in card and f"| pick | bowl | `mshab-rl ppo {ppo}` | 1 |" in card
    assert f"- failure `{rejected}`: 1" in card and "habaux generate --world mshab --policy mshab-rl" in card


def test_the_factory_pickles_as_its_folder_without_its_loaded_agents(tmp_path):
    factory = MSHABRLFactory(tmp_path)
    factory._agents[tmp_path] = lambda obs: obs  # a loaded agent: not picklable, and not sent
    clone = pickle.loads(pickle.dumps(factory))
    assert clone.root == tmp_path and clone._agents == {} and clone.device == factory.device


def test_cli_each_missing_checkpoint_piece_is_one_line(fake_mshab, tmp_path):
    env, root = fake_mshab
    write_assets(root, "set_table", "close", "train", ("fridge.json",))
    work = tmp_path / "work"
    work.mkdir()
    args = ["--world", "mshab", "--policy", "mshab-rl", "--task", "SetTable", "--subtasks", "close-fridge", "--split", "train",
            "--episodes", "1"]  # fmt: skip
    out = ["--out", str(tmp_path / "ds")]
    line = one_line_error(habaux("generate", *args, *out, env=env, cwd=work))
    default = root / "mshab_checkpoints"
    assert f"found neither {default} nor ./mshab_checkpoints" in line and f"--local-dir {default}" in line
    default.mkdir()
    line = one_line_error(habaux("generate", *args, *out, env=env, cwd=work))
    assert f"no MS-HAB checkpoint for SetTable close fridge: {default}/rl/set_table/close/fridge lacks config.yml, policy.pt" in line
    assert f'--include "rl/set_table/close/fridge/*" --local-dir {default}' in line
    write_checkpoint(tmp_path / "mine", "set_table/close/fridge", "bc", np.zeros(ACTION_DIM))
    line = one_line_error(habaux("eval", *args, "--mshab-checkpoints", str(tmp_path / "mine"), env=env, cwd=work))
    assert "rl/set_table/close/fridge/config.yml names algorithm 'bc' (algo.name)" in line
    assert not (tmp_path / "ds").exists()


def test_cli_mshab_rl_needs_the_mshab_world_and_lists_its_options(tmp_path):
    line = one_line_error(habaux("generate", "--policy", "mshab-rl", "--episodes", "1", "--out", str(tmp_path / "ds")))
    assert "--policy mshab-rl rolls out MS-HAB's RL checkpoints on MS-HAB's envs: add --world mshab" in line
    line = one_line_error(habaux("eval", "--policy", "random", "--mshab-checkpoints", str(tmp_path)))
    assert "--mshab-checkpoints is read only by --policy mshab-rl" in line
    wide = {**os.environ, "COLUMNS": "250"}
    for command in ("generate", "eval"):
        text = habaux(command, "--world", "mshab", "--help", env=wide).stdout
        assert "mshab-rl (MS-HAB's RL checkpoint" in text and "--mshab-checkpoints" in text


@pytest.mark.skipif(importlib.util.find_spec("mshab") is not None, reason="MS-HAB's code is installed here")
def test_cli_mshab_rl_without_mshab_code_says_how_to_install_it(tmp_path):
    line = one_line_error(habaux("generate", "--world", "mshab", "--policy", "mshab-rl", "--episodes", "1", "--out", str(tmp_path / "ds")))
    assert "MS-HAB's code" in line and "pip install git+https://github.com/arth-shukla/mshab" in line
