"""Tokenizer loading: always `AutoTokenizer.from_pretrained(folder_or_hub_id)`.

"builtin:tiny" builds a small WordLevel tokenizer offline, saves it to a temporary folder and
loads it back through the same `AutoTokenizer.from_pretrained` path as a hub tokenizer.
`add_action_tokens` adds the n_bins action tokens (no-op when a saved checkpoint already has them).
"""

from __future__ import annotations

import tempfile

from hab_aux.train.model.weights import load_pretrained_part

BUILTIN_TINY = "builtin:tiny"
EOS = "<|endoftext|>"
_WORDS = (
    "in : what action should the robot take to ? out pick up place open close fridge drawer bowl cup apple "
    "can box bottle plate a an on of into from table counter sink shelf kitchen door and it this that"
).split()


def build_tiny_tokenizer(folder: str) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<unk>", "<pad>", EOS, *dict.fromkeys(_WORDS)])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token=EOS)
    fast.save_pretrained(folder)


def load_tokenizer(source: str):
    from transformers import AutoTokenizer

    if source == BUILTIN_TINY:
        with tempfile.TemporaryDirectory() as folder:
            build_tiny_tokenizer(folder)
            return AutoTokenizer.from_pretrained(folder)
    return load_pretrained_part("tokenizer", source, AutoTokenizer.from_pretrained)


def add_action_tokens(tokenizer, names: list[str]) -> tuple[list[int], int]:
    """Add the action tokens as special tokens; return (their ids, how many were new)."""
    added = tokenizer.add_tokens(names, special_tokens=True)
    ids = tokenizer.convert_tokens_to_ids(names)
    if len(set(ids)) != len(names) or tokenizer.unk_token_id in ids:
        raise ValueError("action tokens did not get distinct ids")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return list(ids), added
