"""The fine-tuned role cross-encoder: its inputs, and (with the ``train`` extra) a one-epoch
fine-tune exported to ONNX, read back, cached, and mixed into the role model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from narrascope.analysers import role_encoder as re_
from narrascope.analysers import roles
from narrascope.finetune import BASE_PACKAGE, load_tokenizer

TOKENIZER = Path(roles.__file__).parent.parent / "models" / "minilm" / "tokenizer.json"
HAS_TRAIN_EXTRA = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "onnx", BASE_PACKAGE))

TEXT = (
    "Seoul weighs arms for Kyiv as Moscow warns\n\n"
    "Russia warned South Korea on Friday. " + "The talks went on for hours in the capital. " * 30 + "Moscow said "
    "the puppet regime in Kyiv shelled civilians, and Zakharova accused Seoul of provoking a war."
)


def _at(word: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(word, start + 1)
    return start, start + len(word)


def test_rows_mark_the_mention_and_keep_the_title() -> None:
    tok = load_tokenizer(TOKENIZER)
    spans = [_at("Russia"), _at("Seoul", 1), _at("civilians")]
    rows = re_.mention_rows(tok, TEXT, spans, title=12, context=60)
    m0, m1 = tok.token_to_id(re_.MARK_START), tok.token_to_id(re_.MARK_END)
    title = tok.encode("Seoul weighs arms for Kyiv as Moscow warns", add_special_tokens=False).ids
    for (row, a, b), (s, e) in zip(rows, spans, strict=True):
        assert len(row) <= 1 + 12 + 1 + 60 + 1
        assert row[1 : 1 + len(title)] == title[:12]
        assert row[a] == m0 and row[b - 1] == m1 and row.count(m0) == 1
        assert tok.decode(row[a + 1 : b - 1]) == TEXT[s:e].lower()


def test_a_mention_at_the_end_gets_context_before_it() -> None:
    tok = load_tokenizer(TOKENIZER)
    end = (TEXT.rindex("war."), len(TEXT))
    ((row, a, b),) = re_.mention_rows(tok, TEXT, [end], title=8, context=40)
    assert len(row) == 1 + 8 + 1 + 40 + 1  # the window is full although the mention ends the text
    assert row[b - 1] == tok.token_to_id(re_.MARK_END) and b == len(row) - 1  # then the final [SEP]


def test_missing_artefact_names_the_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="encoder.onnx"):
        re_.RoleEncoder(tmp_path)


@pytest.mark.skipif(not HAS_TRAIN_EXTRA, reason="needs the 'train' extra (torch, transformers, base weights)")
def test_fine_tune_export_cache_and_mix(tmp_path: Path) -> None:
    tax = roles.load_roles()
    labels = [
        ("Russia", 0, "Antagonist", ["Instigator"]),
        ("Seoul", 1, "Antagonist", ["Instigator"]),
        ("Zakharova", 0, "Antagonist", ["Deceiver"]),
        ("civilians", 0, "Innocent", ["Victim"]),
        ("Kyiv", 1, "Antagonist", ["Tyrant"]),
    ]
    examples = [re_.Example("doc", TEXT, *_at(w, n), main, fines) for w, n, main, fines in labels]
    params = re_.TrainParams(epochs=1, batch_size=2, context=48)
    first = re_.train_cached(examples, tmp_path, tax.main_names, tax.fine_names, params)
    files = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    assert set(files) == set(re_.FILES)
    assert re_.train_cached(examples, tmp_path, tax.main_names, tax.fine_names, params) == first
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == files  # reused, not retrained

    enc = re_.RoleEncoder(first)
    pm, pf = enc.proba(TEXT, [(s, e) for s, e in (_at("Russia"), _at("civilians"))])
    assert pm.shape == (2, 3) and pf.shape == (2, len(tax.fine_names))
    assert np.allclose(pm.sum(1), 1, atol=1e-5) and ((pf > 0) & (pf < 1)).all()
    # padded batches give what single mentions give, up to int8 activation noise
    one = np.vstack([enc.proba(TEXT, [_at(w)])[0] for w in ("Russia", "civilians")])
    assert np.abs(one - pm).max() < 0.05

    # inside the role model: saved with it, read back, mixed with the linear model's probabilities
    model = roles.RoleModel(parts=["lexical"], neural_weight=0.25)
    X = np.random.default_rng(0).normal(size=(6, roles.N_LEX)).astype(np.float32)
    model.fit(
        X,
        ["Antagonist", "Antagonist", "Innocent", "Protagonist", "Antagonist", "Innocent"],
        [["Instigator"], ["Tyrant"], ["Victim"], ["Guardian"], ["Deceiver"], ["Victim"]],
    )
    model.neural = enc
    model.save(tmp_path / "model")
    back = roles.RoleModel.load(tmp_path / "model")
    assert back.neural is not None and back.neural_weight == 0.25
    art = roles._article("doc", TEXT)
    spans = [roles.MentionSpan(*_at("Russia"), "Russia"), roles.MentionSpan(*_at("civilians"), "civilians")]
    neural = back.neural_proba(art, spans)
    assert neural is not None
    lin_m, lin_f = back.predict_proba(X[:2])
    mix_m, mix_f = back.predict_proba(X[:2], neural)
    assert np.allclose(mix_m, 0.75 * lin_m + 0.25 * neural[0], atol=1e-6)
    assert np.allclose(mix_f, 0.75 * lin_f + 0.25 * neural[1], atol=1e-6)
