"""Runs compared at equal training time: the clock is the sum of logged step times."""

import json

import pytest

from hab_aux.train.metrics import read_metrics, training_minutes
from hab_aux.train.plot import axis_values, losses_at, plot_runs


def _run(folder, steps, samples_per_s, batch=8, ranks=1):
    """A run folder whose every step took batch x ranks / samples_per_s seconds and logged loss = its step."""
    folder.mkdir()
    (folder / "train_config.json").write_text(json.dumps({"batch_size": batch, "grad_accum": 1, "world_size": ranks}))
    lines = [{"step": s, "stage": "adapt" if s <= steps // 2 else "joint", "loss/tokens": float(s), "samples_per_s": samples_per_s}
             for s in range(1, steps + 1)]  # fmt: skip
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return folder


def test_the_clock_sums_step_times(tmp_path):
    run = _run(tmp_path / "a", steps=120, samples_per_s=16.0)  # 0.5 s a step: 2 steps a second
    minutes = training_minutes(run, read_metrics(run))
    assert minutes[0] == pytest.approx(0.5 / 60) and minutes[-1] == pytest.approx(1.0)


def test_losses_at_a_time_are_the_mean_of_the_window_before_it(tmp_path):
    fast = _run(tmp_path / "fast", steps=240, samples_per_s=16.0)  # 120 steps a minute
    slow = _run(tmp_path / "slow", steps=240, samples_per_s=8.0)  # 60 steps a minute

    def at(run, point, axis="minutes"):
        records = read_metrics(run)
        return losses_at(records, axis_values(run, records, axis), point, window=10)

    assert at(fast, 1.0) == {"tokens": pytest.approx(115.5), "step": 120}  # mean of steps 111..120
    assert at(slow, 1.0) == {"tokens": pytest.approx(55.5), "step": 60}
    assert at(slow, 5.0) is None  # the run stopped at 4 minutes
    assert at(slow, 100, axis="step") == {"tokens": pytest.approx(95.5), "step": 100}


def test_samples_count_every_rank_of_a_step(tmp_path):
    one = _run(tmp_path / "one", steps=100, samples_per_s=16.0)
    two = _run(tmp_path / "two", steps=100, samples_per_s=32.0, ranks=2)  # two ranks of 8: 16 a step
    assert axis_values(one, read_metrics(one), "samples")[-1] == 800
    records = read_metrics(two)
    assert losses_at(records, axis_values(two, records, "samples"), 800, window=10) == {"tokens": pytest.approx(45.5), "step": 50}


def test_plot_against_minutes_writes_a_png(tmp_path):
    runs = [_run(tmp_path / "fast", 40, 16.0), _run(tmp_path / "slow", 40, 8.0)]
    png = plot_runs(runs, tmp_path / "minutes.png", smooth=4, axis="minutes")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
