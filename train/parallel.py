"""Data-parallel strategies under torchrun: DDP (a full replica per rank) or FSDP2 (`fully_shard`).

FSDP shards every LLM decoder layer, every vision encoder layer, then the root (embeddings, tied
LM head, projector, flow expert, decoders); bf16 compute with fp32 reduction on CUDA, fp32 on CPU
(gloo). Stage switches only flip `requires_grad` on the sharded parameters: FSDP copies it to the
gathered ones on every all-gather, frozen parameters get no gradient, and Adam skips them.
Training state is saved and loaded as full (unsharded) state dicts, the same files for any world size.
"""

import torch
from torch import nn

from hab_aux.errors import UserError
from hab_aux.train.model.modeling_sgvla import SGVLAModel

def check_strategy(strategy: str, world: int) -> None:
    if strategy == "fsdp" and world < 2:
        raise UserError("--strategy fsdp shards the model over several processes: run it under torchrun "
                        "with --nproc-per-node 2 or more (WORLD_SIZE is 1)")  # fmt: skip


def shard(model: SGVLAModel, device: torch.device) -> None:
    """FSDP2 in place: one unit per transformer layer, then the root."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    if device.type == "cuda":
        layers = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        # The root keeps the batch in fp32 (flow targets, decoder labels); autocast casts what it must.
        root = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=False)
    else:
        layers = root = MixedPrecisionPolicy()  # fp32
    for layer in (*model.llm.model.layers, *model.vision.blocks()):
        fully_shard(layer, mp_policy=layers)
    fully_shard(model, mp_policy=root)


def for_stage(model: nn.Module, strategy: str, world: int) -> nn.Module:
    """What the step calls after a stage switch changed `requires_grad`: DDP is rebuilt to follow it."""
    if strategy == "ddp" and world > 1:
        return nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    return model


def state_dicts(model: nn.Module, optimizer: torch.optim.Optimizer, strategy: str) -> tuple[dict, dict]:
    """Full model and optimizer state dicts on CPU (collective under FSDP: every rank calls it; rank 0 gets them)."""
    if strategy == "ddp":
        return model.state_dict(), optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options), get_optimizer_state_dict(model, optimizer, options=options)


def load_state_dicts(model: nn.Module, optimizer: torch.optim.Optimizer, strategy: str, model_state: dict,
                     optimizer_state: dict) -> None:  # fmt: skip
    """Inverse of `state_dicts`; every rank passes the full dicts (memory-mapped from the state file)."""
    if strategy == "ddp":
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict, set_optimizer_state_dict

    set_model_state_dict(model, model_state, options=StateDictOptions(full_state_dict=True))
    # Parameters Adam never stepped (never had a gradient: the flow expert before its stage, DINOv2's
    # mask token) have no saved state, exactly as with DDP's plain `optimizer.load_state_dict`.
    lenient = StateDictOptions(full_state_dict=True, strict=False)
    set_optimizer_state_dict(model, optimizer, optimizer_state, options=lenient)
