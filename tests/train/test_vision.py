"""The vision encoders as data: a ConvNeXt beside (or instead of) DINOv2 + SigLIP, read at `feature_layer`."""

import dataclasses

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.train.checkpoint import load_pretrained, save_pretrained
from hab_aux.train.model.build import make_processor
from hab_aux.train.model.configuration_sgvla import PretrainedSpec, VisionConfig
from hab_aux.train.presets import get_preset, override
from tests.train.tiny_sgvla import build_tiny, make_sample

TINY_CONVNEXT = PretrainedSpec(None, dict(num_channels=3, patch_size=7, num_stages=2, hidden_sizes=[16, 24], depths=[1, 1],
                                          layer_scale_init_value=0.0))  # fmt: skip


def _tiny_conv(**vision):
    """tiny with a ConvNeXt: 56 px, a 7-px stem, two stages -> 4 x 4 patches as tiny's 14-px ViTs."""
    v = dataclasses.replace(get_preset("tiny").vision, convnext=TINY_CONVNEXT, **vision)
    return build_tiny(seed=1, vision=v)


def test_convnext_features_are_its_hidden_state_read_as_patch_tokens():
    model = _tiny_conv(dinov2=None, siglip=None, feature_layer=-1)
    v = model.vision
    assert v.names == ("convnext",) and v.patches_per_image == 16 and v.fused_dim == 24
    images = torch.rand(3, 3, 56, 56)
    with torch.no_grad():
        ours = v(images)
        ref = v.convnext(pixel_values=(images - v.convnext_mean) / v.convnext_std, output_hidden_states=True)
    last = ref.hidden_states[-1]  # (3, 24, 4, 4)
    assert torch.allclose(ours, last.flatten(2).transpose(1, 2), atol=1e-6)
    assert torch.allclose(ours[:, 5], last[:, :, 1, 1])  # row-major: patch 5 is row 1, column 1


def test_encoders_are_fused_in_order_and_all_used():
    model = _tiny_conv(feature_layer=-1)
    assert model.vision.names == ("dinov2", "siglip", "convnext") and set(model.components()) >= set(model.vision.names)
    assert model.vision.fused_dim == 32 + 48 + 24
    batch = make_processor(model)([make_sample(np.random.default_rng(0))])
    model(batch, "joint")["total"].backward()
    for name, enc in model.vision.encoders.items():
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters()), name


def test_encoders_whose_patch_grids_differ_are_a_user_error():
    with pytest.raises(UserError, match="patch stride shared by every encoder"):
        _tiny_conv(feature_layer=-2)  # the ConvNeXt's stem alone: 8 x 8 patches against the ViTs' 4 x 4


def test_a_vision_config_needs_an_encoder_and_set_can_drop_one():
    with pytest.raises(UserError, match="at least one encoder of dinov2, siglip, convnext"):
        VisionConfig()
    only_siglip = override(get_preset("tiny"), ["vision.dinov2=null"])
    assert list(only_siglip.vision.encoders()) == ["siglip"]
    with pytest.raises(UserError, match="at least one encoder"):
        override(only_siglip, ["vision.siglip=null"])


def test_a_convnext_checkpoint_round_trips(tmp_path):
    model = _tiny_conv(dinov2=None, siglip=None, feature_layer=-1).eval()
    folder = save_pretrained(model, tmp_path / "ckpt")
    assert (folder / "convnext" / "config.json").is_file() and not (folder / "dinov2").exists()
    loaded = load_pretrained(folder).eval()
    batch = make_processor(model)([make_sample(np.random.default_rng(4))], with_actions=False)
    noise = torch.randn(1, model.config.flow.chunk, 13)
    assert torch.equal(model.predict_flow(batch, noise=noise), loaded.predict_flow(batch, noise=noise))


def test_stacked_slots_are_one_image_of_every_slot_on_channels():
    model = _tiny_conv(dinov2=None, siglip=None, feature_layer=-1, stack_slots=True, token_positions=True)
    slots = len(model.slots)
    assert slots > 1 and model.encoded_images == 1
    assert model.vision.convnext.config.num_channels == 3 * slots  # the arch says 3: built for the stack
    assert model.projector.positions.shape[:2] == (1, 16)
    images = torch.rand(2, slots, 3, 56, 56)
    with torch.no_grad():
        tokens = model.embed_images(images)
        stacked = model.projector.embed(model.vision(images.flatten(1, 2)), 2)
    assert tokens.shape == (2, 16, model.llm.config.hidden_size) and torch.equal(tokens, stacked)
    # every slot reaches the tokens: changing only the last slot's image changes them
    other = images.clone()
    other[:, -1] = torch.rand(2, 3, 56, 56)
    with torch.no_grad():
        assert not torch.allclose(model.embed_images(other), tokens)


def test_stacked_slots_train_every_encoder_layer_and_round_trip(tmp_path):
    model = _tiny_conv(dinov2=None, siglip=None, feature_layer=-1, stack_slots=True)
    batch = make_processor(model)([make_sample(np.random.default_rng(5))])
    model(batch, "joint")["total"].backward()
    convnext = model.vision.convnext
    for name, p in [*convnext.embeddings.named_parameters(), *convnext.encoder.named_parameters()]:  # not its pooling head
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    folder = save_pretrained(model.eval(), tmp_path / "ckpt")
    loaded = load_pretrained(folder)
    assert loaded.vision.convnext.config.num_channels == 3 * len(model.slots)
    batch = make_processor(model)([make_sample(np.random.default_rng(6))], with_actions=False)
    noise = torch.randn(1, model.config.flow.chunk, 13)
    assert torch.equal(model.predict_flow(batch, noise=noise), loaded.predict_flow(batch, noise=noise))


def test_stacked_slots_on_rgb_pretrained_weights_are_a_user_error(tmp_path):
    rgb = _tiny_conv(dinov2=None, siglip=None, feature_layer=-1).vision.convnext
    rgb.save_pretrained(tmp_path / "rgb")
    v = dataclasses.replace(get_preset("tiny").vision, dinov2=None, siglip=None, feature_layer=-1, stack_slots=True,
                            convnext=PretrainedSpec(str(tmp_path / "rgb")))  # fmt: skip
    with pytest.raises(UserError, match="vision.stack_slots needs convnext built for 12 input channels, but .* has 3"):
        build_tiny(vision=v)
