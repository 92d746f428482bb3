"""The codec benchmark measures every candidate on frames of a store, checks each round trip, and
marks the codec the store uses for each image kind."""

from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode


def test_every_kind_is_measured_losslessly_and_the_stored_codec_is_marked(tmp_path, run_benchmark):
    with ShardWriter(tmp_path / "data", 0, task="SetTable") as writer:
        writer.add_episode(*synthetic_episode(1, steps=12, task="SetTable", subtask="pick"))
    build_manifest(tmp_path / "data")
    bench, recorded = run_benchmark("compression", "--dataset", str(tmp_path / "data"), "--windows", "1", "--repeat", "1")
    (section, command, body), = recorded
    assert section == "Image codecs" and "--windows 1" in command
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| kind")]
    for kind in bench.KINDS:
        mine = [r for r in rows if r.startswith(f"| {kind} |")]
        assert sum(" * |" in r for r in mine) == 1, mine  # exactly one stored codec per kind
        assert any("| JPEG-XL lossless, effort 2" in r for r in mine)
    assert all(r.endswith("| yes |") for r in rows), [r for r in rows if not r.endswith("| yes |")]
    assert "| rgb | WebP lossless, method 0 |" in body and "| depth | WebP" not in body
    assert "Images of one transition (both cameras, all four kinds)" in body
