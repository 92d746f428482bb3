"""`habaux inspect` and `habaux card` on synthetic datasets, through the CLI."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
import zarr
from PIL import Image
from typer.testing import CliRunner

from hab_aux import schema
from hab_aux.cli import app
from hab_aux.errors import UserError
from hab_aux.inspect.verify import verify_dataset
from hab_aux.store import codecs, open_dataset
from tests.hab_aux.conftest import write_dataset

runner = CliRunner()


def test_summary_preview_and_video(dataset, tmp_path):
    png, gif = tmp_path / "p.png", tmp_path / "v.gif"
    result = runner.invoke(app, ["inspect", str(dataset), "--episode", "1", "--out", str(png), "--video", str(gif)])
    assert result.exit_code == 0, result.output
    assert "5 episodes" in result.output and "TidyHouse" in result.output and "shoulder_lift" in result.output
    assert Image.open(png).size == (3 * schema.IMAGE_SIZE, 2 * 4 * schema.IMAGE_SIZE)
    assert Image.open(gif).n_frames == 130


def test_verify_then_summary_and_preview_in_one_call(dataset, tmp_path):
    png = tmp_path / "p.png"
    result = runner.invoke(app, ["inspect", str(dataset), "--verify", "--out", str(png)])
    assert result.exit_code == 0, result.output
    assert "every shard, array and chunk checked" in result.output and "5 episodes" in result.output
    assert png.exists()


def test_mp4_video(dataset, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    result = runner.invoke(app, ["inspect", str(dataset), "--episode", "2", "--video", str(tmp_path / "v.mp4")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "v.mp4").stat().st_size > 1000


def test_card(dataset, tmp_path):
    out = tmp_path / "card.md"
    assert runner.invoke(app, ["card", str(dataset), "--out", str(out)]).exit_code == 0
    text = out.read_text()
    assert "habaux generate --shard 0" in text and "`hand_mask`" in text and "MS-HAB" in text
    assert "| TidyHouse | place | mug | 1 | 41 |" in text
    assert "Attempt counts not recorded. 3 of 5 stored episodes are successes." in text


def test_card_sums_the_attempts_and_lists_the_commands_of_every_run(dataset, tmp_path):
    """A resumed dataset was written by several runs: the card counts all their attempts."""
    copy = shutil.copytree(dataset, tmp_path / "copy")
    runs = [("habaux generate --episodes 3", 0.0, 4, 3, {"timeout": 1}), ("habaux generate --episodes 5", 1.0, 4, 2, {"grasp lost": 2})]
    for i, (command, started, attempted, kept, failures) in enumerate(runs):
        (copy / ".progress" / f"run{i}").mkdir(parents=True)
        progress = {"attempted": attempted, "kept": kept, "steps": 99, "started": started, "failures": failures, "command": command}
        (copy / ".progress" / f"run{i}" / "shard-00000.json").write_text(json.dumps(progress))
    assert runner.invoke(app, ["card", str(copy), "--out", str(tmp_path / "card.md")]).exit_code == 0
    text = (tmp_path / "card.md").read_text()
    assert "5 of 8 attempts succeeded (62.5%); 5 episodes kept." in text
    assert text.index("habaux generate --episodes 3") < text.index("habaux generate --episodes 5")


def test_verify_finds_missing_and_truncated_chunks(dataset, tmp_path):
    copy = shutil.copytree(dataset, tmp_path / "copy")
    assert runner.invoke(app, ["inspect", str(copy), "--verify"]).exit_code == 0
    shard = copy / "shards" / "shard-00000.zarr"
    (shard / "head_rgb" / "c" / "1" / "0" / "0" / "0").unlink()
    depth = shard / "hand_depth" / "c" / "0" / "0" / "0" / "0"
    depth.write_bytes(depth.read_bytes()[:-100])
    problems = verify_dataset(copy)
    assert any("head_rgb: chunk file c/1/0/0/0 missing" in p for p in problems), problems
    assert any("hand_depth: chunk file c/0/0/0/0: shard index corrupt" in p for p in problems), problems
    result = runner.invoke(app, ["inspect", str(copy), "--verify"])
    assert result.exit_code == 1 and "2 problem(s)" in result.output
    with pytest.raises(OSError, match="checksum mismatch"):
        open_dataset(copy).steps([0], ("hand_depth",))


def _inner_chunk(shard_file: Path, chunk: int, chunks_per_shard: int) -> tuple[int, int]:
    """(offset, nbytes) of an inner chunk, from the index that ends a zarr v3 shard file."""
    data = shard_file.read_bytes()
    index = np.frombuffer(data[-(16 * chunks_per_shard + 4) : -4], "<u8").reshape(-1, 2)
    return int(index[chunk][0]), int(index[chunk][1])


@pytest.mark.parametrize(
    "which, key", [("dataset", "hand_depth"), ("dataset", "head_seg"), ("jpegxl_dataset", "hand_depth")]
)
def test_verify_names_a_corrupt_inner_chunk(request, tmp_path, which, key):
    """One flipped byte inside one inner chunk (delta + zstd, zstd, an image codec's frame) is found and named."""
    copy = shutil.copytree(request.getfixturevalue(which), tmp_path / "copy")
    arr = zarr.open_array(copy / "shards" / "shard-00000.zarr" / key, mode="r")
    file_key, chunk_len = arr.metadata.encode_chunk_key((0,) * arr.ndim), arr.metadata.codecs[0].chunk_shape[0]
    shard_file = copy / "shards" / "shard-00000.zarr" / key / file_key
    offset, nbytes = _inner_chunk(shard_file, 3, codecs.SHARD_STEPS // chunk_len)
    data = bytearray(shard_file.read_bytes())
    data[offset + nbytes // 2] ^= 0xFF
    shard_file.write_bytes(bytes(data))
    items = f"{3 * chunk_len}..{4 * chunk_len - 1}"
    expected = f"shards/shard-00000.zarr: {key}: chunk file {file_key}: inner chunk 3 (items {items}) corrupt (checksum mismatch)"
    assert verify_dataset(copy) == [expected]
    result = runner.invoke(app, ["inspect", str(copy), "--verify"])
    assert result.exit_code == 1 and expected in result.output and "1 problem(s)" in result.output


def test_verify_names_an_inner_chunk_the_codec_refuses(jpegxl_dataset, tmp_path):
    """Bytes with a valid checksum that the image codec cannot decode are named too (the decode is checked)."""
    copy = shutil.copytree(jpegxl_dataset, tmp_path / "copy")
    shard_file = copy / "shards" / "shard-00000.zarr" / "head_depth" / "c" / "0" / "0" / "0" / "0"
    offset, nbytes = _inner_chunk(shard_file, 3, codecs.SHARD_STEPS)
    data = bytearray(shard_file.read_bytes())
    body = b"\0" * (nbytes - 4)
    data[offset : offset + nbytes] = body + np.uint32(google_crc32c.value(body)).tobytes()
    shard_file.write_bytes(bytes(data))
    (problem,) = verify_dataset(copy)
    assert problem.startswith("shards/shard-00000.zarr: head_depth: chunk file c/0/0/0/0: inner chunk 3 (items 3..3) corrupt ("), problem


def test_verify_finds_missing_and_unlisted_shards(tmp_path, episodes):
    root = write_dataset(tmp_path / "ds", episodes[:3], shards=3)
    shutil.rmtree(root / "shards" / "shard-00001.zarr")
    shutil.copytree(root / "shards" / "shard-00002.zarr", root / "shards" / "shard-00007.zarr")
    problems = verify_dataset(root)
    assert problems == [
        "shards/shard-00001.zarr: listed in the manifest but missing",
        "shards/shard-00007.zarr: present but not in the manifest"
        " (rebuild it: habaux inspect DATASET --rebuild-manifest)",
    ]
    assert runner.invoke(app, ["inspect", str(root), "--rebuild-manifest", "--verify"]).exit_code == 0
    assert open_dataset(root).num_episodes == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["inspect", "{missing}"], "not a folder"),
        (["inspect", "{ds}", "--episode", "7", "--out", "{tmp}/x.png"], r"episode 7 out of range.*valid 0\.\.4"),
        (["inspect", "{ds}", "--video", "{tmp}/x.avi"], "must end in .mp4 or .gif"),
        (["inspect", "{ds}", "--replay", "5"], r"episode 5 out of range.*valid 0\.\.4"),
        (["card", "{missing}"], "not a folder"),
    ],
)
def test_bad_input_is_a_user_error(dataset, tmp_path, args, message):
    args = [a.format(ds=dataset, tmp=tmp_path, missing=tmp_path / "missing") for a in args]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, UserError)
    with pytest.raises(UserError, match=message):
        raise result.exception


def test_cli_prints_one_line_without_traceback(tmp_path):
    habaux = Path(sys.executable).parent / "habaux"  # the installed console script, which runs cli.main
    proc = subprocess.run([str(habaux), "inspect", str(tmp_path / "nope")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "not a folder" in proc.stderr
