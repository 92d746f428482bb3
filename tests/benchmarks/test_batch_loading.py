"""The batch-loading benchmark times both readers on batches built as `habaux train` builds them."""

from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode


def test_both_readers_are_timed_and_the_decoded_files_land_in_the_cache(tmp_path, run_benchmark, monkeypatch):
    with ShardWriter(tmp_path / "data", 0, task="SetTable") as writer:
        for seed in range(2):
            writer.add_episode(*synthetic_episode(seed + 1, steps=10, task="SetTable", subtask="pick"))
    build_manifest(tmp_path / "data")
    monkeypatch.setattr("hab_aux.train.trainer.CACHE", tmp_path / "cache")
    _, recorded = run_benchmark("batch_loading", "--data", str(tmp_path / "data"), "--preset", "tiny",
                                "--set", "inputs.depth=true", "--batch-size", "2", "--batches", "3")  # fmt: skip
    (section, command, body), = recorded
    assert "--set inputs.depth=true" in section and "--batches 3" in command
    assert "| compressed stores |" in body and "| `--decoded-cache` |" in body
    assert (next((tmp_path / "cache" / "decoded").iterdir()) / "head_depth.npy").exists()
