"""The MS-HAB world path, as far as it can run without MS-HAB's code and assets: every missing piece
stops `--world mshab` with one line saying how to get it, before any env is made; and the shared
observation mapping (both worlds) computes each schema key from a ManiSkill-like agent and target.

A real MS-HAB run needs its code and several GB of assets, which this machine cannot download.
"""

import importlib.util
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.generate.plan import GenerateConfig
from hab_aux.schema import ACTION_DIM, CAMERAS, IMAGE_SIZE, check_steps
from tests.generate.mshab_fakes import FakeFetch, FakeMSHABEnv, expected_state, habaux, one_line_error, yaw_pose

MSHAB_INSTALLED = importlib.util.find_spec("mshab") is not None


@pytest.mark.skipif(MSHAB_INSTALLED, reason="MS-HAB's code is installed here")
def test_generate_without_mshab_code_says_how_to_install_it(tmp_path):
    line = one_line_error(habaux("generate", "--world", "mshab", "--episodes", "1", "--out", str(tmp_path / "ds")))
    assert "MS-HAB's code" in line and "pip install git+https://github.com/arth-shukla/mshab" in line
    assert not (tmp_path / "ds").exists()


@pytest.mark.skipif(MSHAB_INSTALLED, reason="MS-HAB's code is installed here")
def test_make_mshab_env_without_code_fails_before_making_an_env():
    from hab_aux.generate.envs import make_mshab_env

    with pytest.raises(UserError, match="MS-HAB's code"):
        make_mshab_env("SetTable", "open", "fridge")
    with pytest.raises(UserError, match="TidyHouse has no open/fridge column"):
        make_mshab_env("TidyHouse", "open", "fridge")


def test_eval_without_assets_names_each_folder_and_its_download(fake_mshab):
    env, root = fake_mshab
    line = one_line_error(habaux("eval", "--world", "mshab", "--task", "SetTable", "--episodes", "1", env=env))
    assert f"under {root}" in line
    for uid, folder in [("ycb", "assets/mani_skill2_ycb"), ("ReplicaCAD", "scene_datasets/replica_cad_dataset/configs/scenes"),
                        ("ReplicaCADRearrange", "scene_datasets/replica_cad_dataset/rearrange")]:  # fmt: skip
        assert folder in line and f"python -m mani_skill.utils.download_asset {uid}" in line
    # with ycb and ReplicaCAD in place, only the rearrange data is named
    (root / "assets" / "mani_skill2_ycb").mkdir(parents=True)
    (root / "scene_datasets" / "replica_cad_dataset" / "configs" / "scenes").mkdir(parents=True)
    line = one_line_error(habaux("eval", "--world", "mshab", "--task", "SetTable", "--episodes", "1", env=env))
    assert "download_asset ReplicaCADRearrange" in line and "download_asset ycb" not in line and "ReplicaCAD;" not in line


def test_generate_names_missing_task_plans_and_spawn_data_then_refuses_the_expert(fake_mshab, tmp_path):
    env, root = fake_mshab
    for folder in ("assets/mani_skill2_ycb", "scene_datasets/replica_cad_dataset/configs/scenes"):
        (root / folder).mkdir(parents=True)
    rearrange = root / "scene_datasets" / "replica_cad_dataset" / "rearrange"
    (rearrange / "task_plans" / "set_table" / "open" / "val").mkdir(parents=True)
    (rearrange / "task_plans" / "set_table" / "open" / "val" / "fridge.json").write_text("{}")
    args = ["generate", "--world", "mshab", "--task", "SetTable", "--subtasks", "open", "--split", "val",
            "--episodes", "1", "--out", str(tmp_path / "ds")]  # fmt: skip
    line = one_line_error(habaux(*args, env=env))
    assert "task_plans/set_table/open/val/kitchen_counter.json" in line and "spawn_data/set_table/open/val/spawn_data.pt" in line
    assert "fridge.json" not in line and "download_asset ReplicaCADRearrange" in line
    (rearrange / "task_plans" / "set_table" / "open" / "val" / "kitchen_counter.json").write_text("{}")
    (rearrange / "spawn_data" / "set_table" / "open" / "val").mkdir(parents=True)
    (rearrange / "spawn_data" / "set_table" / "open" / "val" / "spawn_data.pt").write_bytes(b"")
    line = one_line_error(habaux(*args, env=env))  # assets complete: the default expert is what stops it
    assert "scripted expert only runs in the procedural world" in line
    assert not (tmp_path / "ds").exists()


def test_world_is_part_of_the_dataset_config():
    with pytest.raises(UserError, match="unknown world 'replica'"):
        GenerateConfig.parse("SetTable", None, world="replica")
    config = GenerateConfig.parse("SetTable", None, world="mshab")
    assert GenerateConfig.from_json(config.to_json()) == config
    older = {k: v for k, v in GenerateConfig.parse("SetTable", None).to_json().items() if k != "world"}
    assert GenerateConfig.from_json(older).world == "procedural"  # datasets made before --world resume as before


def test_seed_ranges_pick_the_split_and_ids_give_categories():
    from hab_aux.generate.envs.mshab import split_of, ycb_category
    from hab_aux.tasks import SPLIT_SEED_RANGES

    train, val = SPLIT_SEED_RANGES["train"][0], SPLIT_SEED_RANGES["val"][0]
    assert split_of([train + 5]) == "train" and split_of([val, val + 3]) == "val"
    with pytest.raises(UserError, match="one split"):
        split_of([train, val])
    with pytest.raises(UserError, match="one split"):
        split_of([SPLIT_SEED_RANGES["val"][1]])
    assert ycb_category("013_apple-0") == "apple" and ycb_category("002_master_chef_can-12") == "master chef can"
    with pytest.raises(ValueError):
        ycb_category("fridge-0")


@pytest.mark.parametrize("yaw", [0.5, 3.5])
def test_schema_observation_maps_a_fetch_observation(yaw):
    from hab_aux.generate.envs.observation import schema_observation

    base = yaw_pose(1.0, 2.0, 0.0, yaw)
    target_world = base * yaw_pose(0.7, -0.2, 0.8, 0.3)  # known pose in the base frame
    tcp_world = base * yaw_pose(0.5, 0.0, 1.25, 0.0)
    agent = FakeFetch(base, tcp_world, torch.arange(15, dtype=torch.float64)[None], torch.tensor([True]))
    target = type("Target", (), {"per_scene_id": torch.tensor([7], dtype=torch.int32)})()
    s = IMAGE_SIZE
    seg = torch.zeros((1, s, s, 1), dtype=torch.int16)
    seg[0, 10:20, 30:40] = 7
    seg[0, 50:60, 0:5] = 8
    depth = torch.full((1, s, s, 1), 1234, dtype=torch.int16)
    depth[0, 0, 0] = -5
    rgb = torch.randint(0, 255, (1, s, s, 3), dtype=torch.uint8)
    obs = {"sensor_data": {f"fetch_{cam}": {"rgb": rgb, "depth": depth, "segmentation": seg} for cam in CAMERAS}}

    out = schema_observation(obs, agent, target, target_world, torch.tensor([True]))

    check_steps({**{k: np.asarray(v)[:1] for k, v in out.items()}, "action": np.zeros((1, ACTION_DIM), np.float32),
                 "after_success": np.zeros(1, bool)})  # fmt: skip
    for cam in CAMERAS:
        assert out[f"{cam}_mask"].sum() == 100 and out[f"{cam}_mask"][0, 10:20, 30:40].all()
        assert out[f"{cam}_depth"][0, 0, 0, 0] == 0 and out[f"{cam}_depth"][0, 1, 0, 0] == 1234
        np.testing.assert_array_equal(out[f"{cam}_rgb"], rgb.numpy())
        np.testing.assert_array_equal(out[f"{cam}_seg"], seg.numpy()[..., 0])
    wrapped = np.arctan2(np.sin(yaw), np.cos(yaw))
    np.testing.assert_allclose(out["base_pose"][0], [1.0, 2.0, wrapped], atol=1e-5)
    np.testing.assert_allclose(out["target_pose"][0, :3], [0.7, -0.2, 0.8], atol=1e-5)
    np.testing.assert_allclose(np.abs(out["target_pose"][0, 3:] @ [np.cos(0.15), 0, 0, np.sin(0.15)]), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["tcp_pose"][0, :3], [0.5, 0.0, 1.25], atol=1e-5)
    np.testing.assert_array_equal(out["qpos"][0], np.arange(15))
    assert out["is_grasped"].tolist() == [True] and agent.asked == []  # the flag passed in, no second query


def test_mshab_env_maps_seeds_plans_targets_and_results_onto_the_interface(monkeypatch, tmp_path):
    """With MS-HAB's code and env faked: the interface logic only; MS-HAB's real env is not run here."""
    import hab_aux.generate.envs.mshab as mshab_env
    from hab_aux.tasks import SPLIT_SEED_RANGES

    plans = [SimpleNamespace(subtasks=[SimpleNamespace(uid=f"open_{i}", articulation_id=f"fridge-{i}")]) for i in range(3)]
    loaded, made = [], []
    planner = SimpleNamespace(plan_data_from_file=lambda path: loaded.append(path) or SimpleNamespace(plans=plans, dataset="RCAD"))
    for name, module in {"mshab": SimpleNamespace(), "mshab.envs": SimpleNamespace(planner=planner), "mshab.envs.planner": planner}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(mshab_env, "check_mshab", lambda task, columns, splits: tmp_path)
    monkeypatch.setattr(mshab_env.gym, "make", lambda env_id, **kw: made.append((env_id, kw)) or FakeMSHABEnv(kw, plans))

    env = mshab_env.make_mshab_env("SetTable", "open", "fridge")
    assert not made  # nothing is built before the split is known
    val = SPLIT_SEED_RANGES["val"][0]
    obs, (info,) = env.reset([val + 1], [7])
    env_id, kw = made[0]
    assert env_id == "OpenSubtaskTrain-v0" and kw["obs_mode"] == "rgb+depth+segmentation" and kw["scene_builder_cls"] == "RCAD"
    assert kw["reconfiguration_freq"] == 0 and not kw["require_build_configs_repeated_equally_across_envs"]
    assert kw["add_event_tracker_info"]  # the infos MS-HAB's episode labels read
    assert loaded[0].parts[-4:] == ("set_table", "open", "val", "fridge.json")
    assert kw["spawn_data_fp"].parts[-4:] == ("set_table", "open", "val", "spawn_data.pt")
    fake = env.unwrapped
    seed, options = fake.resets[-1]
    # layout seed start+1 -> the second scene of the split in order (5); reconfigured, since 3 was built
    assert seed == [7] and options["build_config_idxs"] == [5] and options["reconfigure"]
    assert options["task_plan_idxs"].tolist() == [0] and 0 <= options["spawn_selection_idxs"][0] < 4
    assert (info.target_name, info.target_category, info.instruction) == ("fridge-2", "fridge", "open the fridge")
    # the target is the handle link: its mask, and MS-HAB's handle position on it, relative to the base
    assert obs["head_mask"].sum() == 16
    np.testing.assert_allclose(obs["target_pose"][0, :3], [2.1, 0.2, 1.0], atol=1e-6)
    # MS-HAB's own flat state rides along for its RL experts: agent then extra, each in key order
    np.testing.assert_array_equal(obs["mshab_state"], expected_state(0)[None])
    env.reset([val + 1], [7])
    assert fake.resets[-1][1]["reconfigure"] is False and fake.resets[-1][1]["spawn_selection_idxs"] == options["spawn_selection_idxs"]
    _, result = env.step(np.zeros((1, ACTION_DIM), np.float32))
    assert result.success.tolist() == [True] and result.failure_reason == ["collision"] and "articulation_open" in result.info
    env.reset([SPLIT_SEED_RANGES["train"][0]], [0])  # another split: MS-HAB's train plans, in a new env
    assert len(made) == 2 and loaded[1].parts[-2] == "train" and env.split == "train"
