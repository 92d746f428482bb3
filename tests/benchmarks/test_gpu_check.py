"""scripts/gpu_check.sh --dry-run: the GPU check's code end to end on CPU (tiny preset, CPU simulator,
toy sizes), so its plumbing is proven on machines without a GPU."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.sim
@pytest.mark.slow
def test_the_dry_run_writes_every_row(tmp_path):
    results = tmp_path / "results.md"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), "--dry-run", "--results", str(results)],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = results.read_text()
    assert "## GPU check (dry run)" in text and "bash scripts/gpu_check.sh --dry-run" in text
    for row in ("| generate, SetTable pick, 1 env(s) |", "`inspect --verify` passed", "| eval, expert, SetTable Pick",
                "| train sgvla (joint), batch 2 |", "| train sgvla-flow (expert), batch 2 |",
                "| select_action, tokens head |", "| select_action, flow head |"):  # fmt: skip
        assert row in text, row


def test_without_bundles_the_check_says_what_to_run(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HABAUX_BUNDLES": str(tmp_path)})  # fmt: skip
    assert done.returncode == 1 and "run scripts/gpu_wheels.sh" in done.stderr
