"""The trainer package must import without the simulator (sapien, mani_skill)."""

import subprocess
import sys

BLOCKER = r"""
import importlib.abc, pkgutil, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sapien", "mani_skill"):
            raise ImportError(f"simulator import blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
import hab_aux.train
mods = [m.name for m in pkgutil.walk_packages(hab_aux.train.__path__, "hab_aux.train.")]
for name in mods:
    __import__(name)
import hab_aux.commands.model_info
assert not any(m.split(".")[0] in ("sapien", "mani_skill") for m in sys.modules)
print(len(mods), "modules")
"""


def test_trainer_imports_without_simulator():
    out = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[0]) >= 10
