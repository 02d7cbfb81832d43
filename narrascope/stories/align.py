"""Sentence and quote alignment across articles: which facts they share, which only one reports.

Two sentences match when a blend of their embedding cosine (which sees paraphrase: "has supplied
Ukraine with non-lethal and humanitarian assistance" ~ "assistance to Ukraine has included first-aid
kits, medicine…") and their content-word overlap passes a threshold; matches are one-to-one per pair of
articles (greedy, best first) and are joined across several articles into fact groups holding at most
one sentence per article. Every sentence and quote carries character offsets into its article's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..document import Article, Quote
from .text import content_words, sentence_spans

__all__ = ["AlignConfig", "Unit", "align_sentences", "match_quotes", "pair_scores"]


@dataclass
class AlignConfig:
    threshold: float = 0.62  # blended score for two sentences to state the same fact
    lexical_weight: float = 0.25  # share of the content-word overlap in the blend
    min_words: int = 3  # sentences with fewer content words are never matched
    quote_threshold: float = 0.62  # same (or unresolved) speaker
    quote_threshold_other: float = 0.85  # two different speakers: only near-identical words match
    quote_cut: float = 0.85  # containment of content words above which a rendering is a cut of the other


@dataclass
class Unit:
    """A sentence (or quote) of one article, with offsets into ``Article.text``."""

    article: int  # position of the article in the compared list
    start: int
    end: int
    text: str
    words: frozenset[str]

    def to_dict(self, articles: Sequence[Article]) -> dict[str, Any]:
        return {"article": articles[self.article].id, "start": self.start, "end": self.end, "text": self.text}


def units(articles: Sequence[Article]) -> list[list[Unit]]:
    out = []
    for i, art in enumerate(articles):
        out.append(
            [
                Unit(i, a, b, art.text[a:b], frozenset(content_words(art.text[a:b])))
                for a, b in sentence_spans(art)
            ]
        )
    return out


def lexical(a: frozenset[str], b: frozenset[str]) -> float:
    """Content-word overlap (Dice), so a long sentence and a short one can still match."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def containment(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the larger one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def pair_scores(
    ua: list[Unit], ub: list[Unit], ea: np.ndarray, eb: np.ndarray, config: AlignConfig
) -> np.ndarray:
    """Blended similarity of every sentence of one article with every sentence of another."""
    if not ua or not ub:
        return np.zeros((len(ua), len(ub)), dtype=np.float32)
    cos = ea @ eb.T
    lex = np.array([[lexical(x.words, y.words) for y in ub] for x in ua], dtype=np.float32)
    score = (1 - config.lexical_weight) * cos + config.lexical_weight * lex
    short_a = np.array([len(x.words) < config.min_words for x in ua])
    short_b = np.array([len(y.words) < config.min_words for y in ub])
    score[short_a, :] = 0.0
    score[:, short_b] = 0.0
    return score


def _greedy(score: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    pairs = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    flat = np.argsort(-score, axis=None)
    for k in flat:
        i, j = divmod(int(k), score.shape[1])
        s = float(score[i, j])
        if s < threshold:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j, s))
    return pairs


def align_sentences(
    articles: Sequence[Article], config: AlignConfig | None = None, embeddings: list[np.ndarray] | None = None
) -> dict[str, Any]:
    """Fact groups shared by two or more articles, and each article's unmatched sentences.

    Returns ``{"shared": [{"score", "articles", "sentences": [...]}], "only_in": {article_id: [...]}}``.
    """
    cfg = config or AlignConfig()
    us = units(articles)
    if embeddings is None:
        embeddings = _embed_units(us)
    matches: list[tuple[float, tuple[int, int], tuple[int, int]]] = []
    for a in range(len(articles)):
        for b in range(a + 1, len(articles)):
            for i, j, s in _greedy(
                pair_scores(us[a], us[b], embeddings[a], embeddings[b], cfg), cfg.threshold
            ):
                matches.append((s, (a, i), (b, j)))
    articles_index = {a.id: k for k, a in enumerate(articles)}
    # Join pairwise matches into groups, best first, never two sentences of one article in a group.
    group_of: dict[tuple[int, int], int] = {}
    groups: list[dict[str, Any]] = []
    for s, x, y in sorted(matches, key=lambda m: -m[0]):
        gx, gy = group_of.get(x), group_of.get(y)
        if gx is None and gy is None:
            group_of[x] = group_of[y] = len(groups)
            groups.append({"members": {x, y}, "scores": [s]})
        elif gx is not None and gy is not None:
            continue  # both already placed; merging could put two sentences of one article together
        else:
            gid = gx if gx is not None else gy
            new = y if gx is not None else x
            assert gid is not None
            if any(m[0] == new[0] for m in groups[gid]["members"]):
                continue
            groups[gid]["members"].add(new)
            groups[gid]["scores"].append(s)
            group_of[new] = gid
    shared: list[dict[str, Any]] = []
    for group in groups:
        members = sorted(group["members"])
        shared.append(
            {
                "score": round(float(np.mean(group["scores"])), 4),
                "articles": [articles[a].id for a, _ in members],
                "sentences": [us[a][i].to_dict(articles) for a, i in members],
            }
        )
    # in reading order of the first article that reports the fact
    shared.sort(key=lambda g: (articles_index[g["articles"][0]], g["sentences"][0]["start"]))
    only_in = {
        art.id: [u.to_dict(articles) for i, u in enumerate(us[k]) if (k, i) not in group_of]
        for k, art in enumerate(articles)
    }
    return {"shared": shared, "only_in": only_in}


def _embed_units(us: list[list[Unit]]) -> list[np.ndarray]:
    from ..embed import embed

    flat = [u.text for unit_list in us for u in unit_list]
    emb = embed(flat) if flat else np.zeros((0, 384), dtype=np.float32)
    out, k = [], 0
    for unit_list in us:
        out.append(emb[k : k + len(unit_list)])
        k += len(unit_list)
    return out


# ---- quotes --------------------------------------------------------------------------------


def _quote_dict(article: Article, q: Quote) -> dict[str, Any]:
    return {
        "article": article.id,
        "start": q.start,
        "end": q.end,
        "text": q.text,
        "kind": q.kind,
        "speaker": q.speaker,
        "speaker_id": q.speaker_id,
        "cue": q.cue,
    }


def match_quotes(articles: Sequence[Article], config: AlignConfig | None = None) -> dict[str, Any]:
    """Quotes that two or more articles render, each as each renders it, and quotes only one has.

    A shared quote says how the renderings differ: ``wording`` is verbatim, cut (one is a part of the
    other) or paraphrased; ``attribution`` is same, different (two speakers) or partly unattributed.
    """
    cfg = config or AlignConfig()
    qs = [[q for q in art.quotes if q.text.strip()] for art in articles]
    flat = [(k, q) for k, lst in enumerate(qs) for q in lst]
    if not flat:
        return {"shared": [], "only_in": {a.id: [] for a in articles}}
    from ..embed import embed

    emb = embed([q.text for _, q in flat])
    words = [frozenset(content_words(q.text)) for _, q in flat]
    pairs = []
    for x in range(len(flat)):
        for y in range(x + 1, len(flat)):
            if flat[x][0] == flat[y][0]:
                continue
            cos = float(emb[x] @ emb[y])
            cont = containment(words[x], words[y]) if min(len(words[x]), len(words[y])) >= 3 else 0.0
            score = max(cos, cont)
            sx, sy = flat[x][1].speaker_id or flat[x][1].speaker, flat[y][1].speaker_id or flat[y][1].speaker
            needed = cfg.quote_threshold_other if sx and sy and sx != sy else cfg.quote_threshold
            if score >= needed:
                pairs.append((score, x, y))
    group_of: dict[int, int] = {}
    groups: list[set[int]] = []
    for _, x, y in sorted(pairs, reverse=True):
        gx, gy = group_of.get(x), group_of.get(y)
        if gx is None and gy is None:
            group_of[x] = group_of[y] = len(groups)
            groups.append({x, y})
        elif (gx is None) != (gy is None):
            gid = gx if gx is not None else gy
            new = y if gx is not None else x
            assert gid is not None
            if all(flat[m][0] != flat[new][0] for m in groups[gid]):
                groups[gid].add(new)
                group_of[new] = gid
    shared = []
    for group in groups:
        members = sorted(group, key=lambda m: flat[m][0])
        renderings = [_quote_dict(articles[flat[m][0]], flat[m][1]) for m in members]
        shared.append(
            {
                "speaker": next((r["speaker"] for r in renderings if r["speaker"]), None),
                "wording": _wording([flat[m][1].text for m in members], [words[m] for m in members], cfg),
                "attribution": _attribution([flat[m][1] for m in members]),
                "articles": [r["article"] for r in renderings],
                "renderings": renderings,
            }
        )
    only_in: dict[str, list[dict[str, Any]]] = {art.id: [] for art in articles}
    for m, (k, q) in enumerate(flat):
        if m not in group_of:
            only_in[articles[k].id].append(_quote_dict(articles[k], q))
    return {"shared": shared, "only_in": only_in}


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("“", '"').replace("”", '"').split()).strip(
        " \"'.,"
    )


def _wording(texts: list[str], words: list[frozenset[str]], cfg: AlignConfig) -> str:
    normed = {_norm(t) for t in texts}
    if len(normed) == 1:
        return "verbatim"
    shortest = min(normed, key=len)
    if all(shortest in n for n in normed):
        return "cut"
    if all(containment(words[0], w) >= cfg.quote_cut for w in words[1:]) and len({len(w) for w in words}) > 1:
        return "cut"
    return "paraphrased"


def _attribution(quotes: list[Quote]) -> str:
    speakers = {q.speaker_id or q.speaker for q in quotes}
    if None in speakers:
        return "partly unattributed" if len(speakers) > 1 else "unattributed"
    return "same" if len(speakers) == 1 else "different"
