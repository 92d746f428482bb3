"""The wheel must contain every package: each folder with an __init__.py is listed in pyproject."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_to_name = {v: k for k, v in config["package-dir"].items()}
    found = set()
    for top, name in folder_to_name.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    missing = sorted(found - set(config["packages"]))
    assert not missing, f"packages missing from pyproject.toml: {missing}"


def test_core_imports_neither_simulator_nor_torch():
    import subprocess
    import sys

    code = (
        "import sys, hab_aux.schema, hab_aux.tasks, hab_aux.policy, hab_aux.cli;"
        "bad = [m for m in ('sapien', 'mani_skill', 'torch') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
