"""Action normalisation and binning: round trip within half a bin, constant dims, new vocabulary tokens."""

import numpy as np
import pytest

from hab_aux.errors import UserError
from hab_aux.train.model.action_tokenizer import ActionBins, ActionStats
from tests.train.tiny_sgvla import make_stats


def test_round_trip_error_under_half_bin():
    stats, bins = make_stats(), ActionBins(256)
    x = np.random.default_rng(3).uniform(stats.q01, stats.q99, (2000, 13)).astype(np.float32)
    y = stats.normalize(x)
    y_hat = bins.decode(bins.encode(y))
    assert np.abs(y_hat - y).max() <= bins.half_width + 1e-6
    x_hat = stats.unnormalize(y_hat)
    half = bins.half_width * (stats.q99 - stats.q01) / 2
    assert np.all(np.abs(x_hat - x) <= half + 1e-5)


def test_constant_dims_normalise_to_zero_and_decode_to_their_value():
    stats = make_stats()
    assert stats.constant[8] and stats.constant[9] and not stats.constant[0]
    y = stats.normalize(np.full(13, 0.3, np.float32))
    assert y[8] == 0 and y[9] == 0
    assert stats.unnormalize(y)[8] == 0.0


def test_clipping_and_bins_cover_edges():
    bins = ActionBins(256)
    assert bins.encode(np.array([-5.0, -1.0, 1.0, 5.0])).tolist() == [0, 0, 255, 255]
    assert np.isclose(bins.decode(np.array([0]))[0], -1 + 1 / 256)


def test_stats_validation():
    with pytest.raises(ValueError, match=r"\(N, 13\)"):
        ActionStats.from_data(np.zeros((4, 12)))
    s = make_stats()
    assert ActionStats.from_dict(s.to_dict()).to_dict() == s.to_dict()


def test_missing_stats_file_fails_loudly(tmp_path):
    with pytest.raises(UserError, match="norm_stats.json is missing"):
        ActionStats.load(tmp_path)


def test_action_tokens_are_new_vocabulary_entries(tiny_model):
    tok, ids = tiny_model.tokenizer, tiny_model.action_token_ids.tolist()
    assert len(ids) == 256 == len(set(ids))
    assert tok.convert_ids_to_tokens(ids[:2]) == ["<act_0>", "<act_1>"]
    assert max(ids) < tiny_model.llm.get_input_embeddings().weight.shape[0]
    assert tok.eos_token_id not in ids and tok.pad_token_id not in ids
    # plain words never map to action tokens
    assert not set(tok("pick up the bowl")["input_ids"]) & set(ids)
