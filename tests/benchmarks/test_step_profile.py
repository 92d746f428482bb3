"""The step profile times every enabled part of a model built as `habaux train` builds it."""

import importlib.util
import sys
from pathlib import Path

from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "step_profile.py"


def test_profile_names_each_part_and_honours_overrides(tmp_path, monkeypatch):
    with ShardWriter(tmp_path / "data", 0, task="SetTable") as writer:
        for seed in range(2):
            writer.add_episode(*synthetic_episode(seed + 1, steps=10, task="SetTable", subtask="pick"))
    build_manifest(tmp_path / "data")
    spec = importlib.util.spec_from_file_location("step_profile", SCRIPT)
    profile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(profile)
    recorded = []
    monkeypatch.setattr(profile, "record", lambda *args: recorded.append(args))  # results.md stays untouched
    monkeypatch.setattr(sys, "argv", ["step_profile.py", "--data", str(tmp_path / "data"), "--preset", "tiny",
                                      "--set", "stages.joint.losses=tokens,flow,aux", "--set", "decoders.mask.enabled=false",
                                      "--batch-size", "2"])  # fmt: skip
    profile.main()
    (section, command, body), = recorded
    assert "--set decoders.mask.enabled=false" in section and "--batch-size 2" in command
    for part in ("whole step", "vision + projector", "decoder grasp", "flow expert", "token loss"):
        assert f"| {part}" in body
    assert "decoder mask" not in body and "samples per second" in body
