"""The hub checkpoints' layouts, rebuilt tiny and offline: what `from_pretrained` will meet."""

import torch


def test_full_siglip_checkpoint_loads_into_the_vision_tower(tmp_path):
    """google/siglip-so400m-patch14-224 is a full SiglipModel (text + vision); we load its vision tower only."""
    from transformers import SiglipConfig, SiglipModel

    from hab_aux.train.model.build import build_component
    from hab_aux.train.model.configuration_sgvla import PretrainedSpec

    torch.manual_seed(0)
    cfg = SiglipConfig(
        text_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=100),
        vision_config=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=56, patch_size=14),
    )  # fmt: skip
    full = SiglipModel(cfg).eval()
    full.save_pretrained(tmp_path)
    tower = build_component("siglip", PretrainedSpec(str(tmp_path))).eval()
    assert type(tower).__name__ == "SiglipVisionModel" and not tower.config.vision_use_head
    x = torch.randn(1, 3, 56, 56)
    with torch.no_grad():
        want = full.vision_model(pixel_values=x, output_hidden_states=True).hidden_states[-2]
        got = tower(pixel_values=x, output_hidden_states=True).hidden_states[-2]
    assert torch.equal(want, got)
    assert tower.dtype == torch.float32  # transformers 5 would pick the config's dtype ("auto")
