"""Dependencies point one way: generate and train never import eval (read from the source, so the
check needs neither the simulator nor torch)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(folder: str) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("folder", ["generate", "train"])
def test_generate_and_train_never_import_eval(folder):
    offenders = {f: sorted(n for n in names if n.startswith("hab_aux.eval")) for f, names in imports_of(folder).items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_the_scanner_sees_imports():
    assert "hab_aux.store" in imports_of("eval")["eval/harness.py"] or "hab_aux.rollout" in imports_of("eval")["eval/harness.py"]
