"""The sentence encoders: vectors do not depend on the batch, and a sentence is read once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from narrascope import embed


@pytest.fixture()
def encoder() -> embed.Encoder:
    return embed.load_encoder.__wrapped__("minilm-int8")  # a fresh instance: its own, empty cache


def _count_rows(enc: embed.Encoder) -> list[int]:
    """Rows fed to the model, per run."""
    rows: list[int] = []
    session = enc.session

    class Counting:
        def run(self, names: Any, feed: dict[str, np.ndarray]) -> Any:
            rows.append(len(feed["input_ids"]))
            return session.run(names, feed)

    enc.session = Counting()  # type: ignore[assignment]
    return rows


def test_a_sentence_is_read_once_and_keeps_its_vector(encoder: embed.Encoder) -> None:
    texts = ["Kyiv is run by a puppet regime.", "The talks went on for hours.", "Kyiv is run by a puppet regime."]
    alone = [encoder.encode([t], batch_size=1)[0] for t in texts[:2]]
    encoder.clear_cache()
    rows = _count_rows(encoder)
    first = encoder.encode(texts, batch_size=32)
    assert sum(rows) == 2  # the repeated sentence is read once
    np.testing.assert_array_equal(first[0], first[2])
    for got, want in zip(first, alone, strict=False):  # the batch (and its padding) does not change a vector
        np.testing.assert_allclose(got, want, atol=1e-6)

    again = encoder.encode(["The talks went on for hours.", "Seoul weighs arms for Ukraine."])
    assert sum(rows) == 3  # only the new sentence is read
    np.testing.assert_array_equal(again[0], first[1])
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_the_cache_is_bounded(encoder: embed.Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed, "CACHE_SIZE", 2)
    rows = _count_rows(encoder)
    encoder.encode(["One sentence here.", "Two sentences here.", "Three sentences here."])
    assert sum(rows) == 3
    encoder.encode(["Three sentences here."])  # kept: among the two most recent
    assert sum(rows) == 3
    encoder.encode(["One sentence here."])  # dropped: read again
    assert sum(rows) == 4


def test_an_encode_function_keeps_its_vectors() -> None:
    read: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:  # as the mpnet reader: vectors of the texts given, in order
        read.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], np.float32)

    cached = embed.CachedEncode(encode, dim=2)
    first = cached(["A sentence.", "Another one.", "A sentence."])
    assert read == [["A sentence.", "Another one."]]  # the repeated sentence is read once
    np.testing.assert_array_equal(first, [[11, 1], [12, 1], [11, 1]])
    np.testing.assert_array_equal(cached(["Another one.", "New."]), [[12, 1], [4, 1]])
    assert read[1:] == [["New."]]  # only the new sentence is read
    assert cached([]).shape == (0, 2) and len(read) == 2
    cached.clear_cache()
    cached(["New."])
    assert read[2:] == [["New."]]
