"""User mistakes on the command line: one line naming the bad value and the valid ones, exit 2."""

import subprocess
import sys

import pytest

HABAUX = [sys.executable, "-c", "from hab_aux.cli import main; main()"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["eval", "--task", "Kitchen"], "unknown task 'Kitchen'; valid: SetTable, TidyHouse, PrepareGroceries"),
        (["eval", "--policy", "oracle"], "unknown policy 'oracle'; valid: random, zero, release, expert"),
        (["eval", "--episodes", "0"], "--episodes must be at least 1, got 0"),
        (["eval", "--split", "test"], "unknown split 'test'; valid: train, val"),
        (["eval", "--sim-backend", "tpu"], "unknown sim backend 'tpu'; valid: cpu, gpu"),
        (["eval", "--num-envs", "4"], "--num-envs 4: must be 1 with --sim-backend cpu"),
        (["eval", "--task", "TidyHouse", "--subtasks", "open"], "unknown subtask for TidyHouse 'open'; valid: pick, place"),
        (["eval", "--workers", "0"], "--workers must be at least 1, got 0"),
        (["eval", "--episodes-from", "/nonexistent/ds"], "no dataset at /nonexistent/ds: not a folder"),
        (["eval", "--episodes-from", "/"], "/ is not a hab-aux dataset: no manifest.json"),
        (["eval", "--set", "flow.execute=4"], "--set 'flow.execute=4' changes a checkpoint's inference settings: pass --checkpoint"),
        (["generate", "--settle-steps", "-1"], "--settle-steps must be >= 0 (0 ends an episode at its success step), got -1"),
        (["generate", "--action-noise", "1.5"], "--action-noise must be in [0, 1] (std in normalised action units), got 1.5"),
        (["generate", "--action-noise", "-0.1"], "--action-noise must be in [0, 1]"),
        (["publish", "/nonexistent/run", "/nonexistent/out"], "/nonexistent/run is neither a training run with checkpoints"),
        (["plot", "/nonexistent/run", "--smooth", "0"], "--smooth must be at least 1, got 0"),
        (["plot", "/nonexistent/run", "--x", "epoch"], "unknown --x 'epoch'; valid: step, samples, minutes"),
        (["plot", "/nonexistent/run", "--at", "10,soon"], "--at takes points of --x (steps, samples or minutes) separated by commas"),
        (["export", "/nonexistent/ds", "--format", "h5", "--out", "/nonexistent/out"], "unknown format 'h5'; valid: lerobot"),
        (["export", "/nonexistent/ds", "--out", "/"], "--out / exists and is not empty: pass --overwrite to replace it"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, expected):
    done = subprocess.run(HABAUX + args, capture_output=True, text=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["inspect", "{ds}", "--episode", "3", "--rerun", "{tmp}/e.rrd"], "episode 3 out of range: the dataset has 1 episodes"),
        (["export", "{ds}", "--out", "{ds}/lerobot"], "overlaps the dataset"),
    ],
)
def test_bad_input_on_a_dataset_is_one_line(args, expected, tmp_path):
    from hab_aux.store.synthetic import synthetic_episode
    from tests.hab_aux.conftest import write_dataset

    dataset = write_dataset(tmp_path / "ds", [synthetic_episode(1, 12)])
    test_bad_input_is_one_line_without_traceback([a.format(ds=dataset, tmp=tmp_path) for a in args], expected)
    assert [p.name for p in tmp_path.iterdir()] == ["ds"] and not (dataset / "lerobot").exists()  # nothing written


GPU_OPTIONS = [
    (["eval", "--sim-backend", "gpu", "--num-envs", "4", "--episodes", "1", "--subtasks", "pick"], "--sim-backend gpu"),
    (["generate", "--sim-backend", "gpu", "--num-envs", "4", "--episodes", "1"], "--sim-backend gpu"),
    (["eval", "--device", "cuda"], "--device cuda needs a CUDA GPU"),
    (["train", "--device", "cuda:1", "--data", "data/SetTable", "--out", "runs/never"], "--device cuda:1 needs a CUDA GPU"),
]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks a machine without CUDA")
@pytest.mark.parametrize(("args", "expected"), GPU_OPTIONS)
def test_gpu_options_without_a_gpu_are_one_line(args, expected, tmp_path):
    done = subprocess.run(HABAUX + args, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "none is visible on this machine" in lines[0], done.stderr
    assert not any(tmp_path.iterdir())  # nothing was started or written


def test_help_lists_the_commands():
    done = subprocess.run(HABAUX + ["--help"], capture_output=True, text=True, check=True)
    for name in ("doctor", "eval"):
        assert name in done.stdout
