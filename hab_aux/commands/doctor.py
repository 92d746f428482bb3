"""`habaux doctor`: what is installed, whether the simulator can render, and how to fix it."""

import platform
from importlib import metadata

import typer
from rich.console import Console
from rich.table import Table

FIX_RENDER = (
    "no Vulkan render device: run `bash scripts/setup.sh` (Debian bookworm: installs Mesa lavapipe from "
    "bookworm-backports), or install mesa-vulkan-drivers >= 24.3 and libvulkan1, or use a GPU with its Vulkan driver"
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _render_device() -> tuple[bool, str]:
    try:
        import sapien

        return True, str(sapien.render.RenderSystem().device.name)
    except Exception as err:  # any failure here means "cannot render", and the message says why
        return False, f"{type(err).__name__}: {err}".splitlines()[0]


def _cuda() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"


def _mshab_assets() -> str:
    """The same asset list `--world mshab` checks before it builds an env."""
    try:
        from hab_aux.generate.envs.mshab_check import ASSETS, asset_root
    except ImportError as err:  # the simulator is not installed (a trainer-only install)
        return f"not checked ({err.name} is not installed)"
    root = asset_root()
    missing = [uid for uid, folder in ASSETS.items() if not (root / folder).is_dir()]
    return "present" if not missing else f"missing ({', '.join(missing)} under {root})"


def command() -> None:
    """Print versions, the render device, CUDA and MS-HAB assets; exit 1 when the simulator cannot render."""
    console = Console()
    can_render, device = _render_device()
    table = Table(title="habaux doctor", show_header=False)
    rows = [
        ("python", platform.python_version()),
        *[(name, _version(name)) for name in ("hab-aux", "torch", "transformers", "sapien", "mani_skill", "zarr")],
        ("render device", device if can_render else f"[red]{device}[/red]"),
        ("CUDA", _cuda()),
        ("MS-HAB assets", _mshab_assets()),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if not can_render:
        console.print(f"[red]error:[/red] {FIX_RENDER}", soft_wrap=True)
        raise typer.Exit(1)
