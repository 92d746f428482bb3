"""The step profile times every enabled part of a model built as `habaux train` builds it."""

from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode


def test_profile_names_each_part_and_honours_overrides(tmp_path, run_benchmark):
    with ShardWriter(tmp_path / "data", 0, task="SetTable") as writer:
        for seed in range(2):
            writer.add_episode(*synthetic_episode(seed + 1, steps=10, task="SetTable", subtask="pick"))
    build_manifest(tmp_path / "data")
    _, recorded = run_benchmark("step_profile", "--data", str(tmp_path / "data"), "--preset", "tiny",
                                "--set", "stages.joint.losses=tokens,flow,aux", "--set", "decoders.mask.enabled=false",
                                "--batch-size", "2")  # fmt: skip
    (section, command, body), = recorded
    assert "--set decoders.mask.enabled=false" in section and "--batch-size 2" in command
    for part in ("whole step", "vision + projector", "decoder grasp", "flow expert", "token loss"):
        assert f"| {part}" in body
    assert "decoder mask" not in body and "samples per second" in body
