"""Presets, overrides, validation, JSON round trip and meta-device parameter counts."""

import pytest

from hab_aux.errors import UserError
from hab_aux.train.model import decoders, losses
from hab_aux.train.model.build import build_meta_model, parameter_counts
from hab_aux.train.model.configuration_sgvla import DECODER_KINDS, DECODER_LOSSES, SGVLAConfig
from hab_aux.train.presets import PRESETS, get_preset, override


def test_registries_match_config_names():
    assert set(decoders.DECODER_KINDS) == set(DECODER_KINDS)
    assert set(losses.LOSSES) == set(DECODER_LOSSES)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_json_round_trip(name):
    cfg = get_preset(name)
    assert SGVLAConfig.from_dict(cfg.to_dict()) == cfg


def test_bad_preset_lists_valid_names():
    with pytest.raises(UserError, match="valid: sgvla-1.3b, small, small-conv, tiny"):
        get_preset("sgvla-7b")


def test_overrides():
    cfg = override(get_preset("tiny"), ["flow.enabled=false", "inputs.history=4", "decoders.grasp.enabled=false",
                                        "inputs.cameras=head", "decoders.mask.weight=2.5"])  # fmt: skip
    assert not cfg.flow.enabled and cfg.inputs.history == 4 and cfg.inputs.cameras == ("head",)
    assert [d.name for d in cfg.enabled_decoders] == ["global_pos", "object_pose", "joint_pose", "mask"]
    assert cfg.decoders[-1].weight == 2.5
    assert get_preset("tiny").flow.enabled  # presets are frozen, overrides copy
    local = override(get_preset("sgvla-1.3b"), ["vision.dinov2.pretrained=/models/dinov2", "llm.tokenizer=/models/qwen"])
    assert local.vision.dinov2.pretrained == "/models/dinov2" and local.llm.tokenizer == "/models/qwen"
    assert local.vision.dinov2.arch == get_preset("sgvla-1.3b").vision.dinov2.arch
    wide = override(get_preset("small"), ["vision.dinov2.arch.patch_size=16", "llm.model.arch.num_hidden_layers=2"])
    assert wide.vision.dinov2.arch["patch_size"] == 16 and wide.llm.model.arch["num_hidden_layers"] == 2
    assert get_preset("small").vision.dinov2.arch["patch_size"] == 32
    off = override(get_preset("small"), ["inputs.proprio=false", "flow.state=false"])  # in either order
    assert off == override(get_preset("small"), ["flow.state=false", "inputs.proprio=false"]) and not off.flow.state
    one = ["action.chunk=1", "action.execute=1"]  # alone, chunk=1 < the preset's execute=2 is invalid
    assert override(get_preset("small"), one) == override(get_preset("small"), one[::-1])
    assert override(get_preset("small"), one).action.chunk == 1
    assert override(get_preset("tiny"), ["inputs.history=4", "inputs.history=2"]).inputs.history == 2  # the last wins
    random = override(get_preset("sgvla-1.3b"), ["vision.dinov2.pretrained=null", "llm.model.pretrained=null"])
    assert random.vision.dinov2.pretrained is None and random.llm.model.pretrained is None  # built from arch
    assert random.vision.dinov2.arch == get_preset("sgvla-1.3b").vision.dinov2.arch
    slim = override(get_preset("small-conv"), ["vision.convnext.arch.hidden_sizes=[32, 64, 128]"])
    assert slim.vision.convnext.arch["hidden_sizes"] == [32, 64, 128]


def test_a_list_override_must_be_a_json_list():
    with pytest.raises(UserError, match=r"expected a JSON list such as \[48, 96, 192\], got '32,64'"):
        override(get_preset("small-conv"), ["vision.convnext.arch.hidden_sizes=32,64"])


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("flow.nope=1", "valid: enabled"),
        ("decoders.seg.weight=1", "valid: global_pos"),
        ("inputs.cameras=left", "unknown camera 'left'"),
        ("flow.execute=9", "flow.execute"),
        ("inputs.history=x", "expected a int"),
        ("decoders.mask.kind=unet", "unknown decoder kind 'unet'; valid: pooled_mlp"),
        ("flow.enabled", "key.path=value"),
        ("vision.dinov2.arch.patch=8", "valid: hidden_size"),
        ("vision.dinov2.arch.patch_size=big", "expected a int"),
    ],
)
def test_bad_overrides_are_one_line_user_errors(assignment, message):
    with pytest.raises(UserError, match=message) as err:
        override(get_preset("tiny"), [assignment])
    assert "\n" not in str(err.value)


def test_mask_decoder_needs_its_camera():
    with pytest.raises(UserError, match="image:head_rgb"):
        override(get_preset("tiny"), ["inputs.cameras=hand"])


@pytest.fixture(scope="module")
def big_meta():
    """sgvla-1.3b (flow expert switched on) on the meta device: shapes, no weights, no download."""
    return build_meta_model(override(get_preset("sgvla-1.3b"), ["flow.enabled=true"]))


def test_big_preset_counts_on_meta_without_download(big_meta):
    counts = parameter_counts(big_meta)
    assert counts["llm"] == 494_032_768  # Qwen2.5-0.5B shape
    assert 300e6 < counts["dinov2"] < 310e6  # ViT-L/14
    assert 400e6 < counts["siglip"] < 430e6  # SO400M vision tower without its pooling head
    assert counts["projector"] == 2176 * 8704 + 8704 + 8704 * 896 + 896 + 896 * 896 + 896
    assert 80e6 < counts["flow"] < 120e6  # "~100M"
    assert 1.2e9 < counts["total"] - counts["flow"] < 1.4e9
    assert big_meta.vision.fused_dim == 2176 and big_meta.vision.patches_per_image == 256


def test_big_preset_shapes_on_meta(big_meta):
    """Vision -> projector, every decoder and the flow expert at full size (the LLM's mask code needs real tensors)."""
    import torch

    from hab_aux.train.model.modeling_sgvla import Encoded

    b, n_img = 2, len(big_meta.config.inputs.image_slots())
    vis = big_meta.embed_images(torch.empty(b, n_img, 3, 128, 128, device="meta"))
    assert vis.shape == (b, n_img * 256, 896)
    t = vis.shape[1] + 20
    ones = torch.ones(b, t, dtype=torch.bool, device="meta")
    enc = Encoded(torch.empty(b, t, 896, device="meta"), ones, ones)
    shapes = {s.name: tuple(big_meta.decoders[s.name](*big_meta.decoder_inputs(enc, s)).shape) for s in big_meta.config.enabled_decoders}
    assert shapes == {"global_pos": (2, 2), "grasp": (2,), "object_pose": (2, 7), "joint_pose": (2, 12), "mask": (2, 128, 128)}
    assert big_meta.flow.sample(enc.hidden, ones, torch.empty(b, 8, 13, device="meta"), big_meta.config.flow.steps).shape == (b, 8, 13)


def test_model_info_cli():
    from typer.testing import CliRunner

    from hab_aux.cli import app

    out = CliRunner().invoke(app, ["model-info", "--preset", "sgvla-1.3b"], terminal_width=200)
    assert out.exit_code == 0, out.output
    for word in ("dinov2", "siglip", "projector", "llm", "flow expert", "decoder.mask", "total", "494,032,768", "configs"):
        assert word in out.output
    assert "Training speed of sgvla-1.3b" in out.output
    bad = CliRunner().invoke(app, ["model-info", "--preset", "nope"])
    assert bad.exit_code != 0 and isinstance(bad.exception, UserError)


def test_model_info_shows_the_measured_training_speed(tmp_path):
    from hab_aux.commands.model_info import measured_speed

    path = tmp_path / "throughput.json"
    assert "not measured yet" in measured_speed("small", path)
    path.write_text('{"small": {"steps_per_s": 2.5, "batch": 8, "threads": 1, "device": "CPU (1 threads)", '
                    '"measured": "2026-11-29", "machine": "2 cores", "command": "python benchmarks/x.py"}}')  # fmt: skip
    line = measured_speed("small", path)
    assert "2.50 steps/s at batch 8, 1 thread(s)" in line and "python benchmarks/x.py" in line
    assert "not measured yet" in measured_speed("tiny", path)
