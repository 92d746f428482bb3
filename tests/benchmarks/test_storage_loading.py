"""The storage benchmark writes the episodes with the chosen depth codec and says where the bytes go, per key."""

import importlib.util
import sys
from pathlib import Path

from hab_aux import schema

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "storage_loading.py"


def test_bytes_per_key_with_the_jpegxl_depth_codec(monkeypatch):
    spec = importlib.util.spec_from_file_location("storage_loading", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    recorded = []
    monkeypatch.setattr(bench, "record", lambda *args: recorded.append(args))  # results.md stays untouched
    monkeypatch.setattr(sys, "argv", ["storage_loading.py", "--episodes", "2", "--samples", "32", "--batch", "16",
                                      "--depth-codec", "jpegxl"])  # fmt: skip
    bench.main()
    (section, command, body), = recorded
    assert section == "Storage and loading (--depth-codec jpegxl)" and command.endswith("--depth-codec jpegxl")
    assert "by key, depth codec jpegxl" in body
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in body.splitlines() if line.startswith("| ")}
    assert all(key in rows for key in schema.STEP_KEYS)
    assert rows["head_depth"][2] != "-" and rows["qpos"][2] == "-"  # the h5 holds RGB-D and actions only
    shares = [float(rows[k][1].rstrip("%")) for k in [*schema.STEP_KEYS, "the rest: episode metadata, episode_ends, zarr.json and commit.json"]]
    assert abs(sum(shares) - 100) < 1
