"""Dependencies point one way, read from the source (so the check needs neither the simulator nor torch):

    core (hab_aux/)  <-  generate, train  <-  eval  <-  reproduction

The core imports nothing of ours above it; its CLI entry points (hab_aux/commands/) are the top
of the graph and are left out: each command drives the layer it names, and reads that layer's
config dataclass for its option defaults. Generate and train never import eval or reproduction,
eval never imports reproduction, and the trainer never imports the simulator (nor generate,
which brings it; tests/train/test_no_simulator_import.py checks the same at run time).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = ("sapien", "mani_skill")


def imports_of(folder: str, exclude: str | None = None) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        if exclude and path.is_relative_to(ROOT / exclude):
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(found: dict[str, set[str]], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """{file: the imports it holds of the `forbidden` packages (each with its subpackages)}, offending files only."""
    bad = {f: sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in forbidden)) for f, names in found.items()}
    return {f: n for f, n in bad.items() if n}


@pytest.mark.parametrize("folder", ["generate", "train"])
def test_generate_and_train_never_import_eval_or_reproduction(folder):
    assert not offenders(imports_of(folder), ("hab_aux.eval", "hab_aux.reproduction"))


def test_eval_never_imports_reproduction():
    assert not offenders(imports_of("eval"), ("hab_aux.reproduction",))


def test_the_core_imports_nothing_above_it():
    above = ("hab_aux.generate", "hab_aux.train", "hab_aux.eval", "hab_aux.reproduction")
    assert not offenders(imports_of("hab_aux", exclude="hab_aux/commands"), above)


def test_the_trainer_never_imports_the_simulator():
    assert not offenders(imports_of("train"), (*SIMULATOR, "hab_aux.generate"))


def test_the_scanner_sees_imports():
    assert "hab_aux.rollout" in imports_of("eval")["eval/harness.py"]
    assert "hab_aux.generate.plan" in imports_of("hab_aux")["hab_aux/commands/generate.py"]
    assert "hab_aux/commands/generate.py" not in imports_of("hab_aux", exclude="hab_aux/commands")
    assert offenders({"x.py": {"sapien.render"}}, SIMULATOR) == {"x.py": ["sapien.render"]}
