"""The training loop on tiny synthetic datasets: exact resume, stage switches, refusals, plots."""

import json

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file

from hab_aux.errors import UserError
from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode
from hab_aux.train.plot import plot_runs
from hab_aux.train.trainer import TrainConfig, build_run, train

QUIET = Console(quiet=True)


def make_dataset(root, episodes):
    with ShardWriter(root, 0, task=episodes[0][0]) as writer:
        for i, (task, subtask) in enumerate(episodes):
            data, meta = synthetic_episode(i + 1, steps=12, task=task, subtask=subtask)
            writer.add_episode(data, meta)
    build_manifest(root)
    return root


@pytest.fixture(scope="module")
def settable(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("settable"), [("SetTable", s) for s in ("pick", "place", "open", "close")])


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setattr("hab_aux.train.trainer.CACHE", tmp_path / "cache")


def config(data, out, **kwargs):
    base = {"batch_size": 3, "num_workers": 0, "save_every": 2, "schedule": "adapt=2,joint=2", "lr": 1e-3}
    return TrainConfig(data=(str(data),), out=str(out), **{**base, **kwargs})


def weights(checkpoint):
    state = load_file(str(checkpoint / "model.safetensors"))
    llm = load_file(str(checkpoint / "llm" / "model.safetensors"))
    return {**state, **{f"llm.{k}": v for k, v in llm.items()}}


def trained(weights_: dict) -> dict:
    """The weights without BatchNorm's running statistics, which move with every training step whatever the learning rate."""
    return {k: v for k, v in weights_.items() if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


def test_two_steps_resume_two_steps_equals_four_steps(settable, tmp_path):
    straight = train(config(settable, tmp_path / "a"), QUIET)
    train(config(settable, tmp_path / "b", max_steps=2), QUIET)
    resumed = train(config(settable, tmp_path / "b"), QUIET, resume=True)
    assert straight.name == resumed.name == "step-0000004"
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    records = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert [r["stage"] for r in records] == ["adapt", "adapt", "joint", "joint"]


def test_decoded_cache_gives_the_same_run_and_resume_may_switch_it(settable, tmp_path):
    straight = train(config(settable, tmp_path / "a"), QUIET)
    train(config(settable, tmp_path / "b", max_steps=2, decoded_cache=True), QUIET)
    assert list((tmp_path / "cache" / "decoded").iterdir())
    resumed = train(config(settable, tmp_path / "b"), QUIET, resume=True)
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ema_checkpoints_hold_the_average_of_the_run_s_weights_and_resume_exactly(settable, tmp_path):
    """The first update copies the weights, so after two steps at decay 0.25 the average is
    0.25 * W1 + 0.75 * W2 of the same run without an average (same seed, same batches)."""
    plain = tmp_path / "plain"
    train(config(settable, plain, schedule="joint=2", save_every=1, keep_last=2), QUIET)
    w1, w2 = weights(plain / "checkpoints" / "step-0000001"), weights(plain / "checkpoints" / "step-0000002")
    averaged = weights(train(config(settable, tmp_path / "ema", schedule="joint=2", ema_decay=0.25), QUIET))
    params = trained(w1)
    assert all(torch.allclose(averaged[k], 0.25 * w1[k] + 0.75 * w2[k], atol=1e-6) for k in params)
    assert not all(torch.allclose(averaged[k], w2[k], atol=1e-6) for k in params)
    straight = weights(train(config(settable, tmp_path / "a", ema_decay=0.9), QUIET))
    train(config(settable, tmp_path / "b", ema_decay=0.9, max_steps=2), QUIET)
    resumed = weights(train(config(settable, tmp_path / "b", ema_decay=0.9), QUIET, resume=True))
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_init_from_starts_at_the_checkpoints_weights_and_resume_keeps_the_run_s_own(settable, tmp_path):
    """With a learning rate of 1e-12 one Adam step moves each weight by about 1e-12: a run started from
    a checkpoint ends where that checkpoint was, while a run from its own initialisation does not
    (BatchNorm's running statistics move with any training step and are left out)."""
    first = train(config(settable, tmp_path / "a"), QUIET)
    tiny_lr = {"schedule": "joint=1", "lr": 1e-12}
    continued = weights(train(config(settable, tmp_path / "b", init_from=str(first), **tiny_lr), QUIET))
    fresh = weights(train(config(settable, tmp_path / "c", **tiny_lr), QUIET))
    a = trained(weights(first))
    assert all(torch.allclose(continued[k], a[k], atol=1e-8) for k in a)
    assert not all(torch.allclose(fresh[k], a[k], atol=1e-8) for k in a)
    # --resume reads the run's own state, not the checkpoint again
    train(config(settable, tmp_path / "d", init_from=str(first), max_steps=2), QUIET)
    resumed = train(config(settable, tmp_path / "d", init_from=str(first)), QUIET, resume=True)
    straight = train(config(settable, tmp_path / "e", init_from=str(first)), QUIET)
    r, s = weights(resumed), weights(straight)
    assert all(torch.equal(r[k], s[k]) for k in r)


def test_init_from_refuses_a_checkpoint_of_another_architecture(settable, tmp_path):
    other = train(config(settable, tmp_path / "a", schedule="joint=1", overrides=("flow.enabled=false",), recipe="sgvla-flow"), QUIET)
    with pytest.raises(UserError, match=r"--init-from .*do not fit this run's model"):
        train(config(settable, tmp_path / "b", recipe="sgvla-flow", init_from=str(other)), QUIET)
    with pytest.raises(UserError, match="is not an SG-VLA checkpoint"):
        train(config(settable, tmp_path / "c", init_from=str(tmp_path)), QUIET)


def test_the_stage_switch_changes_which_parameters_train(settable, tmp_path):
    run = train(config(settable, tmp_path / "run", recipe="sgvla-flow", schedule="adapt=2,expert=2"), QUIET)
    before, after = weights(run.parent / "step-0000002"), weights(run)
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"flow"}  # in the expert stage the backbone and decoders are frozen
    first = train(config(settable, tmp_path / "run2", recipe="sgvla-flow", schedule="adapt=2,expert=2", max_steps=1), QUIET)
    moved = {k.split(".")[0] for k in before if not torch.equal(weights(first)[k], before[k])}
    assert {"llm", "projector", "decoders"} <= moved and "flow" not in moved  # adapt: no flow loss yet


def test_a_recipe_needing_labels_the_data_lacks_is_refused(tmp_path):
    tidy = make_dataset(tmp_path / "tidy", [("TidyHouse", "pick"), ("TidyHouse", "place")])
    with pytest.raises(UserError, match="provides the label.*is_grasped"):
        train(config(tidy, tmp_path / "run", recipe="grasp"), QUIET)


def test_resume_refuses_another_config_and_a_fresh_run_refuses_an_old_folder(settable, tmp_path):
    train(config(settable, tmp_path / "run", max_steps=1), QUIET)
    with pytest.raises(UserError, match="--resume with a different config: lr was 0.001, now 0.01"):
        train(TrainConfig(data=(str(settable),), out=str(tmp_path / "run"), batch_size=3, num_workers=0,
                          schedule="adapt=2,joint=2", lr=1e-2), QUIET, resume=True)  # fmt: skip
    with pytest.raises(UserError, match="already holds a run"):
        train(config(settable, tmp_path / "run"), QUIET)
    with pytest.raises(UserError, match="holds no training state"):
        train(config(settable, tmp_path / "empty"), QUIET, resume=True)


def test_a_run_saved_before_a_setting_existed_resumes_at_its_default(settable, tmp_path):
    train(config(settable, tmp_path / "run", max_steps=1), QUIET)
    saved = tmp_path / "run" / "train_config.json"
    identity = json.loads(saved.read_text())
    del identity["shift"], identity["labels"]  # as written before --shift and --labels existed
    saved.write_text(json.dumps(identity))
    assert train(config(settable, tmp_path / "run", max_steps=2), QUIET, resume=True).name == "step-0000002"
    saved.write_text(json.dumps({k: v for k, v in json.loads(saved.read_text()).items() if k != "shift"}))
    with pytest.raises(UserError, match="shift was 0, now 4"):
        train(config(settable, tmp_path / "run", shift=4), QUIET, resume=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recipe": "magic"}, "unknown recipe 'magic'"),
        ({"schedule": "warmup=3"}, "unknown stage 'warmup'"),
        ({"schedule": "adapt=three"}, "must look like stage=STEPS"),
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"ema_decay": 1.0}, "--ema-decay must be between 0 and 1"),
        ({"ema_decay": 0.999, "strategy": "fsdp"}, "--ema-decay keeps a full copy"),
    ],
)
def test_bad_training_input(settable, tmp_path, kwargs, message):
    base = {"data": (str(settable),), "out": str(tmp_path / "run"), "num_workers": 0, **kwargs}
    with pytest.raises(UserError, match=message):
        train(TrainConfig(**base), QUIET)


def test_set_overrides_win_over_the_recipe(settable, tmp_path):
    """The recipe switches decoders and the flow head on; `--set` after it must still be able to turn them off."""
    overrides = ("decoders.global_pos.enabled=false", "flow.enabled=false")
    model_config = build_run(config(settable, tmp_path / "run", recipe="sgvla-flow", overrides=overrides), 1)[0]
    assert [d.name for d in model_config.enabled_decoders] == ["grasp", "object_pose", "joint_pose", "mask"]
    assert not model_config.flow.enabled


def test_plot_writes_a_png(settable, tmp_path):
    train(config(settable, tmp_path / "run"), QUIET)
    png = plot_runs([tmp_path / "run"], tmp_path / "losses.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    both = plot_runs([tmp_path / "run", tmp_path / "run"], tmp_path / "both.png", smooth=2)  # overlaid, smoothed
    assert both.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def torchrun(settable, out, cache, *args):
    """`habaux train` on 2 CPU ranks (gloo): recipe sgvla-flow, adapt 2 steps then expert (flow only) 2 steps;
    (the run's metrics records, its standard output)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    launcher = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HABAUX_CACHE": str(cache)}
    done = subprocess.run(
        [str(launcher), "--nproc_per_node", "2", "--master_port", "29533", "-m", "hab_aux", "train", "--data",
         str(settable), "--out", str(out), "--batch-size", "2", "--num-workers", "0", "--recipe", "sgvla-flow",
         "--schedule", "adapt=2,expert=2", "--save-every", "2", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()], done.stdout


@pytest.fixture(scope="module")
def ddp_run(settable, tmp_path_factory):
    run = tmp_path_factory.mktemp("ddp") / "run"
    return run, *torchrun(settable, run, run.parent / "cache")


def test_torchrun_ddp_two_ranks_trains_across_a_stage_switch(ddp_run):
    run, records, stdout = ddp_run
    assert [r["stage"] for r in records] == ["adapt", "adapt", "expert", "expert"]
    assert json.loads((run / "train_config.json").read_text())["world_size"] == 2
    assert (run / "checkpoints" / "step-0000004" / "model.safetensors").exists()
    assert stdout.count("checkpoint:") == 1  # printed by rank 0 only


def test_torchrun_fsdp_matches_ddp_freezes_the_backbone_and_resumes(settable, ddp_run, tmp_path):
    run = tmp_path / "run"
    torchrun(settable, run, tmp_path / "cache", "--strategy", "fsdp", "--max-steps", "3")
    assert json.loads((run / "train_config.json").read_text())["strategy"] == "fsdp"
    records, _ = torchrun(settable, run, tmp_path / "cache", "--strategy", "fsdp", "--resume")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert [r["stage"] for r in records] == ["adapt", "adapt", "expert", "expert"]
    adapted, final = weights(run / "checkpoints" / "step-0000002"), weights(run / "checkpoints" / "step-0000004")
    changed = {k.split(".")[0] for k in adapted if not torch.equal(adapted[k], final[k])}
    assert changed == {"flow"}  # the flow-only stage leaves every sharded backbone and decoder weight as it was
    reference = weights(ddp_run[0] / "checkpoints" / "step-0000004")  # same batches, gradients replicated
    assert final.keys() == reference.keys()
    for k in final:
        torch.testing.assert_close(final[k], reference[k], rtol=1e-4, atol=1e-6, msg=k)
    for a, b in zip(records, ddp_run[1]):
        assert a["loss/total"] == pytest.approx(b["loss/total"], rel=1e-5)


def test_fsdp_needs_torchrun(settable, tmp_path):
    with pytest.raises(UserError, match="--strategy fsdp shards the model over several processes"):
        train(config(settable, tmp_path / "run", strategy="fsdp"), QUIET)
    with pytest.raises(UserError, match="unknown --strategy 'zero3'; valid: ddp, fsdp"):
        config(settable, tmp_path / "run", strategy="zero3")


def test_a_proprio_run_trains_and_its_checkpoint_carries_the_stats(settable, tmp_path):
    final = train(config(settable, tmp_path / "p", schedule="joint=2", overrides=("inputs.proprio=true",)), QUIET)
    assert (final / "proprio_stats.json").is_file()
    assert any(k.startswith("proprio.") for k in weights(final))


def test_a_chunked_token_head_trains_from_the_loaders_action_chunks(settable, tmp_path):
    final = train(config(settable, tmp_path / "c", schedule="joint=2", overrides=("action.chunk=4", "action.execute=2")), QUIET)
    records = [json.loads(line) for line in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["loss/tokens"] > 0 for r in records)
    assert json.loads((final / "config.json").read_text())["action"]["chunk"] == 4


def test_keep_last_prunes_old_checkpoints_and_resume_still_works(settable, tmp_path):
    run = tmp_path / "k"
    train(config(settable, run, schedule="joint=6", save_every=1, keep_last=2, keep_every=3, max_steps=5), QUIET)
    assert sorted(p.name for p in (run / "checkpoints").glob("step-*")) == ["step-0000003", "step-0000004", "step-0000005"]
    final = train(config(settable, run, schedule="joint=6", save_every=1, keep_last=2, keep_every=3), QUIET, resume=True)
    assert final.name == "step-0000006"
    assert sorted(p.name for p in (run / "checkpoints").glob("step-*")) == ["step-0000003", "step-0000005", "step-0000006"]


def test_a_full_disk_while_saving_stops_with_one_line_and_the_run_resumes(settable, tmp_path, monkeypatch):
    import errno

    from hab_aux.errors import Fault
    from hab_aux.train import run_dir

    real = run_dir.save_pretrained

    def full_at_step_4(model, folder, state=None):
        if folder.name == "step-0000004":
            (folder / "partial").mkdir(parents=True)
            raise OSError(errno.ENOSPC, "No space left on device", str(folder))
        return real(model, folder, state)

    monkeypatch.setattr(run_dir, "save_pretrained", full_at_step_4)
    run = tmp_path / "full"
    with pytest.raises(Fault, match="no space left on device.*checkpoint step-0000002.*--resume"):
        train(config(settable, run, schedule="joint=6"), QUIET)
    assert not (run / "checkpoints" / "step-0000004").exists() and not list(run.glob(".*.tmp"))
    assert (run / "checkpoints" / "latest").read_text() == "step-0000002"
    monkeypatch.setattr(run_dir, "save_pretrained", real)
    assert train(config(settable, run, schedule="joint=6"), QUIET, resume=True).name == "step-0000006"


def test_smoothing_is_the_mean_of_each_window():
    from hab_aux.train.plot import _windowed

    assert _windowed([1, 2, 3, 4], 2).tolist() == [1.5, 2.5, 3.5]
    assert _windowed([1, 2, 3], 1).tolist() == [1, 2, 3] and _windowed([1, 2], 5).tolist() == [1, 2]
