"""Fixtures shared by the MS-HAB world tests."""

import os

import pytest


@pytest.fixture
def fake_mshab(tmp_path):
    """An importable (empty) `mshab` and an empty MS_ASSET_DIR, for the CLI run in a subprocess:
    (env, asset root). Only the asset and checkpoint checks stand in the way."""
    (tmp_path / "code" / "mshab").mkdir(parents=True)
    (tmp_path / "code" / "mshab" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "code"), "MS_ASSET_DIR": str(tmp_path / "ms")}
    return env, tmp_path / "ms" / "data"
