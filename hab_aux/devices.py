"""GPU options checked before any work starts: on a machine without CUDA, `--sim-backend gpu` or
`--device cuda` is a user mistake named in one line, not a traceback from deep inside PhysX or torch."""

from __future__ import annotations

from hab_aux.errors import UserError


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def require_cuda(option: str) -> None:
    if not cuda_available():
        raise UserError(f"{option} needs a CUDA GPU, and none is visible on this machine (torch.cuda.is_available() "
                        "is False); leave the option at its CPU default")  # fmt: skip


def check_device(name: str, option: str = "--device") -> None:
    """`cuda`/`cuda:N` need a GPU; other names (cpu, auto) are torch's to judge."""
    if name.startswith("cuda"):
        require_cuda(f"{option} {name}")
