"""Tiny SG-VLA: shapes, stage gradient routing, label masking, KV-cached decoding, overfitting."""

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.train.model.build import make_processor
from hab_aux.train.model.configuration_sgvla import COMPONENTS, InputConfig, StageSpec
from hab_aux.train.model.image_slot import ImageSlot
from hab_aux.train.model.modeling_sgvla import BACKBONE
from tests.train.tiny_sgvla import build_tiny, make_sample

AUX = ("global_pos", "grasp", "object_pose", "joint_pose", "mask")
TINY_BACKBONE = tuple(g for g in BACKBONE if g not in ("proprio", "convnext"))  # not in the tiny fixture


def _grads(model, group):
    mods = [m for n, m in model.components().items() if (n.startswith("decoder.") if group == "decoders" else n == group)]
    return [p.grad for m in mods for p in m.parameters()]


def _has_grad(model, group):
    return any(g is not None and g.abs().sum() > 0 for g in _grads(model, group))


def _backward(model, batch, stage, keys):
    model.zero_grad(set_to_none=True)
    out = model(batch, stage)
    sum(out[k] for k in keys).backward()
    return out


def test_batch_and_output_shapes(tiny_model, tiny_batch):
    b = tiny_batch
    n_img = len(tiny_model.config.inputs.image_slots())
    assert n_img == 4 and b.images.shape == (4, 4, 3, 128, 128)
    assert b.labels.shape == b.input_ids.shape and ((b.labels != -100).sum(1) == 14).all()  # 13 actions + eos
    assert b.action_chunk.shape == (4, 8, 13) and b.action_chunk_valid[:, 0].all() and not b.action_chunk_valid[:, 1:].any()
    assert b.targets["mask"].shape == (4, 128, 128) and b.targets["joint_pose"].shape == (4, 12)
    tiny_model.eval()
    enc = tiny_model.encode(b)
    assert enc.hidden.shape == (4, n_img * 16 + b.input_ids.shape[1], 64)
    aux = tiny_model.predict_aux(b)
    assert {k: tuple(v.shape) for k, v in aux.items()} == {
        "global_pos": (4, 2), "grasp": (4,), "object_pose": (4, 7), "joint_pose": (4, 12), "mask": (4, 128, 128)}  # fmt: skip
    assert tiny_model.predict_flow(b).shape == (4, 8, 13)
    assert tiny_model.predict_action_bins(b).shape == (4, 13)
    out = tiny_model(b, "joint")
    assert set(out) == {"tokens", *AUX, "total"} and all(torch.isfinite(v) for v in out.values())


def test_stage1_aux_loss_does_not_reach_backbone(tiny_model, tiny_batch):
    _backward(tiny_model, tiny_batch, "adapt", AUX)
    for group in TINY_BACKBONE:
        assert not _has_grad(tiny_model, group), group
    for name in AUX:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny_model.decoders[name].parameters()), name
    # ... while the backbone still trains on the action-token loss
    _backward(tiny_model, tiny_batch, "adapt", ("tokens",))
    assert all(_has_grad(tiny_model, g) for g in TINY_BACKBONE)


def test_stage2_aux_loss_reaches_backbone(tiny_model, tiny_batch):
    _backward(tiny_model, tiny_batch, "joint", AUX)
    assert all(_has_grad(tiny_model, g) for g in (*TINY_BACKBONE, "decoders"))


def test_stage3_only_expert_trains(tiny_model, tiny_batch):
    out = _backward(tiny_model, tiny_batch, "expert", ("total",))
    assert set(out) == {"flow", "total"}
    assert _has_grad(tiny_model, "flow")
    flow_params = {id(p) for p in tiny_model.flow.parameters()}
    assert all(p.grad is None for p in tiny_model.parameters() if id(p) not in flow_params)
    assert all(not p.requires_grad for p in tiny_model.parameters() if id(p) not in flow_params)


def test_missing_labels_are_masked_not_invented(tiny_model):
    tiny_model.eval()
    rng = np.random.default_rng(5)
    samples = [make_sample(rng, i) for i in range(3)]
    samples[1]["is_grasped"] = None
    samples[2]["target_pose"] = np.full(7, np.nan, np.float32)
    del samples[0]["head_mask"]
    proc = make_processor(tiny_model)
    batch = proc(samples)
    assert batch.target_valid["grasp"].tolist() == [True, False, True]
    assert batch.target_valid["object_pose"].tolist() == [True, True, False]
    assert batch.target_valid["mask"].tolist() == [False, True, True]
    with torch.no_grad():
        full = tiny_model(batch, "joint")
        only = tiny_model(proc([samples[0], samples[2]]), "joint")  # the two samples that have a grasp label
    torch.testing.assert_close(full["grasp"], only["grasp"], rtol=1e-4, atol=1e-5)
    for s in samples:
        s["is_grasped"] = None
    assert tiny_model(proc(samples), "joint")["grasp"].item() == 0.0


def test_cached_greedy_decoding_matches_teacher_forcing(tiny_model):
    """Different prompt lengths (left padding) and the KV cache give the same tokens as one full pass."""
    tiny_model.eval()
    proc = make_processor(tiny_model)
    rng = np.random.default_rng(7)
    samples = [make_sample(rng, i) for i in (0, 2)]  # short and long instruction
    bins = tiny_model.predict_action_bins(proc(samples, with_actions=False))
    ids = tiny_model.action_token_ids[bins]
    batch = proc(samples)
    full_labels = torch.nn.functional.pad(batch.labels, (tiny_model.encode(batch).hidden.shape[1] - batch.labels.shape[1], 0), value=-100)
    enc = tiny_model.encode(batch)
    sel = full_labels[:, 1:] != -100
    logits = tiny_model.llm.lm_head(enc.hidden[:, :-1][sel]).view(2, 14, -1)[:, :13]
    # teacher-force the predicted tokens: replace the label tokens by the predicted ones
    batch.input_ids[batch.labels != -100] = torch.cat([ids, batch.labels[batch.labels != -100].view(2, 14)[:, 13:]], 1).flatten()
    enc = tiny_model.encode(batch)
    logits = tiny_model.llm.lm_head(enc.hidden[:, :-1][sel]).view(2, 14, -1)[:, :13]
    assert torch.equal(logits[..., tiny_model.action_token_ids].argmax(-1), bins)


def test_history_and_view_ablations_build():
    model = build_tiny(inputs=InputConfig(cameras=("head",), depth=False, history=2))
    assert tuple(map(str, model.config.inputs.image_slots())) == ("2:head_rgb", "1:head_rgb", "0:head_rgb")
    rng = np.random.default_rng(0)
    proc = make_processor(model)
    batch = proc([make_sample(rng, i, history=2) for i in range(2)])
    assert batch.images.shape == (2, 3, 3, 128, 128)
    assert set(model(batch, "joint")) >= {"tokens", "mask", "total"}
    with pytest.raises(UserError, match="history=2 needs a"):
        proc([make_sample(rng, 0)])


def test_flow_stage_without_flow_is_a_user_error():
    model = build_tiny(flow=build_tiny().config.flow.__class__(enabled=False))
    batch = make_processor(model)([make_sample(np.random.default_rng(0))])
    with pytest.raises(UserError, match="flow.enabled is false"):
        model(batch, "expert")


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = build_tiny(seed=1)
    model.train()
    rng = np.random.default_rng(2)
    samples = [make_sample(rng, i) for i in range(4)]
    for i, s in enumerate(samples):
        s["action_chunk"] = np.stack([s["action"]] * 8) * (1 - 0.1 * np.arange(8))[:, None]
        s["head_mask"] = np.zeros((128, 128), bool)
        s["head_mask"][32 * i : 32 * i + 48, 20:90] = True  # a learnable blob, not pixel noise
    batch = make_processor(model)(samples)
    everything = StageSpec("all", False, COMPONENTS, ("tokens", "flow", "aux"))
    opt = torch.optim.Adam(model.set_stage(everything), lr=3e-3)
    first = None
    for step in range(100):
        torch.manual_seed(step)  # same noise/time draws each run
        out = model(batch, everything)
        first = first or {k: v.item() for k, v in out.items()}
        opt.zero_grad()
        out["total"].backward()
        opt.step()
    last = {k: v.item() for k, v in model(batch, everything).items()}
    print({k: (round(first[k], 3), round(last[k], 3)) for k in first})
    for k in first:
        assert last[k] < 0.5 * first[k], (k, first[k], last[k])


def test_padding_does_not_change_predictions(tiny_model):
    """A sample decodes the same alone and left-padded in a batch with a longer instruction."""
    tiny_model.eval()
    proc = make_processor(tiny_model)
    rng = np.random.default_rng(11)
    short, long = make_sample(rng, 0), make_sample(rng, 2)
    alone, padded = proc([short], with_actions=False), proc([short, long], with_actions=False)
    assert (~padded.attention_mask[0]).sum() > 0
    assert torch.equal(tiny_model.predict_action_bins(alone)[0], tiny_model.predict_action_bins(padded)[0])
    noise = torch.randn(2, 8, 13, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(tiny_model.predict_flow(alone, noise[:1])[0], tiny_model.predict_flow(padded, noise)[0], rtol=1e-4, atol=1e-5)


def test_decoder_table_is_data():
    """Retarget the mask decoder to the hand camera and drop two decoders, by config only."""
    from hab_aux.train.presets import get_preset, override

    cfg = override(get_preset("tiny"), [
        "decoders.mask.target=hand_mask", "decoders.mask.tokens=image:hand_rgb",
        "decoders.grasp.enabled=false", "decoders.joint_pose.enabled=false"])  # fmt: skip
    torch.manual_seed(0)
    from hab_aux.train.model.build import build_model
    from tests.train.tiny_sgvla import make_stats

    model = build_model(cfg, make_stats())
    assert set(model.decoders) == {"global_pos", "object_pose", "mask"}
    rng = np.random.default_rng(0)
    samples = [make_sample(rng, i) for i in range(2)]
    samples[0]["hand_mask"] = np.ones((128, 128), bool)
    batch = make_processor(model)(samples)
    assert batch.target_valid["mask"].tolist() == [True, False]  # sample 1 has no hand_mask
    out = model(batch, "adapt")
    assert set(out) == {"tokens", "global_pos", "object_pose", "mask", "total"}


def test_depth_image_is_eq1_with_no_hit_far(tiny_model):
    from hab_aux.schema import depth_to_image

    rng = np.random.default_rng(0)
    s = make_sample(rng)
    s["head_depth"][:2, :2] = 0
    batch = make_processor(tiny_model)([s], with_actions=False)
    slot = tiny_model.config.inputs.image_slots().index(ImageSlot.current("head_depth"))
    img = batch.images[0, slot].numpy()
    assert np.allclose(img[0], img[2]) and img[0, 0, 0] == 0.0
    d = s["head_depth"][..., 0]
    assert img.dtype == np.float16  # half the bytes from the loader workers
    np.testing.assert_allclose(img[0][d > 0], depth_to_image(d)[d > 0], atol=2.5e-4)
    assert np.all(img[0][d == 0] == 0.0)


def test_vision_runs_no_layer_after_the_feature_layer(tiny_model, tiny_batch):
    """Same features as the encoders' full forward with every hidden state, without running their last layer."""
    v = tiny_model.vision
    images = tiny_batch.images.flatten(0, 1).float()
    pixels = torch.nn.functional.interpolate(images, size=(v.cfg.image_size,) * 2, mode="bilinear", align_corners=False, antialias=True)
    ran = []
    hooks = [enc_layers[-1].register_forward_hook(lambda *_: ran.append(1))
             for enc_layers in (v.dinov2.encoder.layer, v.siglip.encoder.layers)]  # fmt: skip
    with torch.no_grad():
        fused = v(images)
        assert not ran  # feature_layer -2: the last layer of each encoder is skipped
        d = v.dinov2(pixel_values=(pixels - v.dinov2_mean) / v.dinov2_std, output_hidden_states=True).hidden_states[-2]
        s = v.siglip(pixel_values=(pixels - v.siglip_mean) / v.siglip_std, output_hidden_states=True).hidden_states[-2]
    for h in hooks:
        h.remove()
    skip = 1 + v.dinov2.config.num_register_tokens  # CLS + registers
    assert torch.equal(fused, torch.cat([d[:, skip:], s], dim=-1))


def test_fast_decoding_gives_the_bins_of_a_plain_greedy_decode(tiny_model):
    """Reference: no KV cache, the full LM head, the whole sequence re-encoded for every token."""
    tiny_model.eval()
    proc = make_processor(tiny_model)
    rng = np.random.default_rng(3)
    samples = [make_sample(rng, i) for i in range(3)]  # different prompt lengths: left padding
    batch = proc(samples, with_actions=False)
    ids = tiny_model.action_token_ids
    ref = []
    with torch.no_grad():
        for _ in range(13):
            logits = tiny_model.llm.lm_head(tiny_model.encode(batch).hidden[:, -1])
            ref.append(logits[:, ids].argmax(-1))
            batch.input_ids = torch.cat([batch.input_ids, ids[ref[-1]][:, None]], dim=1)
            for name in ("attention_mask", "prefix_mask"):
                extra = torch.full((3, 1), name == "attention_mask")
                setattr(batch, name, torch.cat([getattr(batch, name), extra], dim=1))
    assert torch.equal(tiny_model.predict_action_bins(proc(samples, with_actions=False)), torch.stack(ref, dim=1))


def test_the_proprio_input_is_one_prefix_token_that_changes_the_prediction():
    model = build_tiny(seed=3, proprio=True).eval()
    rng = np.random.default_rng(5)
    sample = make_sample(rng)
    proc = make_processor(model)
    batch = proc([sample], with_actions=False)
    assert batch.proprio.shape == (1, 12) and float(batch.proprio.abs().max()) <= 1.0
    without = build_tiny(seed=3).eval()
    plain = make_processor(without)([sample], with_actions=False)
    assert model.encode(batch).hidden.shape[1] == without.encode(plain).hidden.shape[1] + 1
    moved = proc([{**sample, "proprio": -sample["proprio"]}], with_actions=False)
    assert not torch.equal(model.encode(batch).hidden, model.encode(moved).hidden)
    stage = model.config.stage("joint")
    loss = model(proc([sample]), stage)["total"]
    loss.backward()
    assert all(p.grad is not None for p in model.proprio.parameters())
    with pytest.raises(UserError, match="'proprio'"):
        proc([{k: v for k, v in sample.items() if k != "proprio"}], with_actions=False)


@pytest.mark.parametrize("preset", ["small", "small-conv"])
def test_every_encoder_layer_of_the_small_presets_receives_gradient(preset):
    from hab_aux.train.model.build import build_model
    from hab_aux.train.model.vision import KINDS
    from hab_aux.train.presets import get_preset
    from tests.train.tiny_sgvla import make_proprio_stats, make_stats

    torch.manual_seed(0)
    cfg = get_preset(preset)
    model = build_model(cfg, make_stats(), make_proprio_stats())
    assert model.vision.patches_per_image == 4 * 4 and cfg.vision.feature_layer == -1
    assert cfg.inputs.proprio and model.proprio is not None
    sample = make_sample(np.random.default_rng(2))
    sample["action_chunk"], sample["action_chunk_valid"] = np.zeros((8, 13), np.float32), np.ones(8, bool)
    model(make_processor(model)([sample]), "joint")["total"].backward()
    for name, encoder in model.vision.encoders.items():
        for i, layer in enumerate(KINDS[name].blocks(encoder)):
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters()), f"{name} layer {i}"


def test_the_learning_rate_schedule_is_the_presets():
    from hab_aux.train.model.configuration_sgvla import OptimConfig

    optim = OptimConfig(lr=1e-3, warmup_steps=10, decay="cosine", min_lr_fraction=0.1)
    assert optim.lr_at(0, 100) == pytest.approx(1e-4) and optim.lr_at(9, 100) == pytest.approx(1e-3)
    assert optim.lr_at(10, 100) == pytest.approx(1e-3) and optim.lr_at(99, 100) == pytest.approx(1e-4)
    assert OptimConfig().lr_at(50, 100) == 2e-5 and OptimConfig().lr_at(50, 100, lr=1e-3) == 1e-3
    with pytest.raises(UserError, match="optim.decay"):
        OptimConfig(decay="step")


def test_the_flow_expert_reads_the_state_directly_when_flow_state_is_on():
    import dataclasses

    from hab_aux.train.presets import get_preset

    flow = dataclasses.replace(get_preset("tiny").flow, state=True)
    model = build_tiny(seed=4, proprio=True, flow=flow).eval()
    sample = make_sample(np.random.default_rng(6))
    proc = make_processor(model)
    noise = torch.randn(1, flow.chunk, 13)
    base = model.predict_flow(proc([sample], with_actions=False), noise=noise)
    enc = model.encode(proc([sample], with_actions=False))
    moved = proc([sample], with_actions=False)
    moved.proprio = moved.proprio + 0.5  # the state the expert reads, not the one the prefix was encoded with
    direct = model.flow.sample(enc.hidden, enc.prefix_mask, noise, model.config.flow.steps, moved.proprio)
    assert not torch.allclose(direct, base)
    sample["action_chunk"], sample["action_chunk_valid"] = np.zeros((8, 13), np.float32), np.ones(8, bool)
    model.train()
    model(proc([sample]), StageSpec("flow", False, COMPONENTS, ("flow",)))["flow"].backward()
    assert model.flow.state_in.weight.grad.abs().sum() > 0
    with pytest.raises(UserError, match="flow.state feeds the robot state"):
        build_tiny(flow=flow)  # inputs.proprio is off in tiny


def test_the_l1_expert_predicts_its_chunk_in_one_pass_and_trains_the_backbone():
    import dataclasses

    from hab_aux.train.presets import get_preset

    model = build_tiny(seed=5, flow=dataclasses.replace(get_preset("tiny").flow, objective="l1")).eval()
    sample = make_sample(np.random.default_rng(7))
    proc = make_processor(model)
    chunk = model.predict_flow(proc([sample], with_actions=False), noise=torch.randn(1, 8, 13))
    assert torch.equal(chunk, model.predict_flow(proc([sample], with_actions=False), noise=torch.randn(1, 8, 13)))
    sample["action_chunk"], sample["action_chunk_valid"] = np.zeros((8, 13), np.float32), np.ones(8, bool)
    model.train()
    batch = proc([sample])
    loss = model(batch, StageSpec("all", False, COMPONENTS, ("flow",)))["flow"]
    assert torch.allclose(loss, (chunk - batch.action_chunk).abs().mean(), atol=1e-5)  # L1 to the normalised chunk
    loss.backward()
    assert _has_grad(model, "flow") and _has_grad(model, "llm")


def test_token_positions_tell_the_image_tokens_apart_and_train_with_the_projector():
    import dataclasses

    from hab_aux.train.presets import get_preset

    vision = get_preset("tiny").vision
    model = build_tiny(seed=4, vision=dataclasses.replace(vision, token_positions=True))
    plain = build_tiny(seed=4)
    assert "projector.positions" in model.state_dict() and "projector.positions" not in plain.state_dict()
    slots, patches = len(model.slots), model.vision.patches_per_image
    assert model.projector.positions.shape == (slots, patches, model.llm.config.hidden_size)
    images = torch.full((1, slots, 3, 56, 56), 0.5)  # one grey image in every slot
    tokens = model.embed_images(images)[0]
    assert torch.allclose(tokens - model.projector.positions.flatten(0, 1), plain.embed_images(images)[0], atol=1e-6)
    same = plain.embed_images(images)[0].view(slots, patches, -1)
    assert torch.equal(same[0], same[1])  # without positions two slots with one image give one set of tokens
    assert len({tuple(t.tolist()) for t in tokens}) == slots * patches
    sample = make_sample(np.random.default_rng(1))
    model(make_processor(model)([sample]), "joint")["total"].backward()
    assert model.projector.positions.grad is not None and model.projector.positions.grad.abs().sum() > 0
