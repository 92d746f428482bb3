"""The storage benchmark writes the episodes with the chosen depth codec and says where the bytes go, per key."""

from hab_aux import schema


def test_bytes_per_key_with_the_jpegxl_depth_codec(run_benchmark):
    _, recorded = run_benchmark("storage_loading", "--episodes", "2", "--samples", "32", "--batch", "16",
                                "--depth-codec", "jpegxl")  # fmt: skip
    (section, command, body), = recorded
    assert section == "Storage and loading (--depth-codec jpegxl)" and command.endswith("--depth-codec jpegxl")
    assert "by key, depth codec jpegxl" in body
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in body.splitlines() if line.startswith("| ")}
    assert all(key in rows for key in schema.STEP_KEYS)
    assert rows["head_depth"][2] != "-" and rows["qpos"][2] == "-"  # the h5 holds RGB-D and actions only
    shares = [float(rows[k][1].rstrip("%")) for k in [*schema.STEP_KEYS, "the rest: episode metadata, episode_ends, zarr.json and commit.json"]]
    assert abs(sum(shares) - 100) < 1
