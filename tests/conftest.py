"""Suite-wide options: hub tests (real weight downloads) are skipped unless --run-hub is given."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--run-hub", action="store_true", help="run tests that download real weights from a model hub")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-hub"):
        return
    skip_hub = pytest.mark.skip(reason="downloads real weights: pass --run-hub where a hub is reachable")
    for item in items:
        if "hub" in item.keywords:
            item.add_marker(skip_hub)
