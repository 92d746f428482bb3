"""A pretrained part that cannot be loaded is a one-line UserError saying which setting to point at a local copy."""

import pytest

from hab_aux.errors import UserError
from hab_aux.train.model.build import build_component
from hab_aux.train.model.configuration_sgvla import PretrainedSpec
from hab_aux.train.model.tokenizer import load_tokenizer


@pytest.mark.parametrize(("kind", "setting"), [("dinov2", "vision.dinov2.pretrained"), ("llm", "llm.model.pretrained")])
def test_unloadable_weights_name_the_setting(tmp_path, kind, setting):
    with pytest.raises(UserError, match=rf"cannot load the {kind} weights from .*--set {setting}=DIR$") as err:
        build_component(kind, PretrainedSpec(str(tmp_path)))  # an empty folder: no config.json
    assert "\n" not in str(err.value)


def test_unloadable_tokenizer_names_the_setting(tmp_path):
    with pytest.raises(UserError, match=r"cannot load the tokenizer weights from .*--set llm.tokenizer=DIR$"):
        load_tokenizer(str(tmp_path))
