"""Benchmark scripts are not a package: load one as a module, or run its `main()` with arguments
while capturing what it would write to benchmarks/results.md (which stays untouched)."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def load_benchmark():
    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def run_benchmark(load_benchmark, monkeypatch):
    """run(name, *args) -> (the module, the (section, command, body) of each record() call)."""

    def run(name: str, *args: str):
        module, recorded = load_benchmark(name), []
        monkeypatch.setattr(module, "record", lambda *a: recorded.append(a))
        monkeypatch.setattr(sys, "argv", [f"{name}.py", *args])
        module.main()
        return module, recorded

    return run
