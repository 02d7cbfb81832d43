"""Persuasion techniques as highlighted spans (SemEval-2020 T11 / SemEval-2023 T3 taxonomies).

Three trained parts, all torch-free at inference and fed by the shared spaCy parse:

1. a span tagger (``Params.neural``, ``Params.neural_encoder``): the fine-tuned MiniLM of
   ``technique_tagger`` (int8 ONNX) or the frozen all-mpnet-base-v2 with a BiLSTM head of
   ``technique_frozen``, giving P(token inside a span), or a linear-chain CRF (python-crfsuite) over BIO tags
   of spaCy tokens, with lexical, POS/dependency, quotation, tensor-cluster features and a sentence
   prior (a logistic regression on the sentence's words and tok2vec tensor); both -> spans with a
   confidence;
2. span classifiers (multinomial logistic regression on TF-IDF of the span and its sentence, the
   tensor means and repetition counts): one over the 23 SemEval-2023 techniques (what the
   analyser reports) and one over the 14 PTC classes (for the PTC measures), the latter averaged
   with the fine-tuned tagger's span-class head when there is one;
3. a paragraph classifier (one-vs-rest logistic regression) for SemEval-2023 subtask 3, whose
   labels are merged with those of the spans inside the paragraph.

Opt-in ``Params`` (off in the shipped model; measured in its model card): target-encoded tokens
for the CRF, a span threshold chosen on inner out-of-fold CRF marginals, and for the PTC head the
span's syntax, length buckets, mapped 2023 spans and shared probabilities for identical spans.

The artefact is a folder: ``tagger.crfsuite`` (crfsuite's own format) or ``neural/`` (the ONNX
or frozen-mpnet tagger), ``arrays.npz`` and ``model.json`` (vocabularies, classes, thresholds, training figures).
No pickle.
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from ..document import Article, Finding
from ..errors import require_files
from ..evaluate import ptc as ptc_eval
from ..evaluate import semeval2023 as st3_eval
from ..registry import analysers
from ..taxonomy.techniques import load_techniques
from .slant import LEXICON_WORD
from .technique_frozen import FrozenParams, FrozenTagger
from .technique_tagger import NeuralTagger

log = logging.getLogger(__name__)

VERSION = "1.0.0"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "techniques"
NEURAL_MODEL_DIR = MODEL_DIR.with_name("techniques-neural")  # the same, with the fine-tuned tagger
MPNET_MODEL_DIR = MODEL_DIR.with_name("techniques-mpnet")  # the same, with the frozen-mpnet tagger
TENSOR_DIM = 96  # en_core_web_sm's tok2vec width; other pipelines fall back to zeros
SEED = 0


# --------------------------------------------------------------------------- training data


@dataclass
class TrainDoc:
    """One training article: its text, parse and gold spans (label is a class of ``scheme``)."""

    id: str
    text: str
    scheme: str  # "ptc" | "semeval2023"
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    paragraph_labels: dict[int, list[str]] = field(default_factory=dict)  # line -> techniques
    doc: Any = None


def load_corpora(ptc_dir: str | Path | None, semeval2023_dir: str | Path | None) -> list[TrainDoc]:
    """Read the PTC train set (``train-articles/``, ``train-task-flc-tc.labels``) and the SemEval-2023
    T3 English train set (``train-articles-subtask-3/``, spans and paragraph labels)."""
    docs: list[TrainDoc] = []
    if ptc_dir:
        root = Path(ptc_dir)
        arts = ptc_eval.read_articles(root / "train-articles")
        by_id: dict[str, list[tuple[int, int, str]]] = {a: [] for a in arts}
        for s in ptc_eval.read_tc(root / "train-task-flc-tc.labels", arts):
            by_id[s.article_id].append((s.start, s.end, s.technique or ""))
        docs += [TrainDoc(a, t, "ptc", by_id[a]) for a, t in arts.items()]
    if semeval2023_dir:
        root = Path(semeval2023_dir)
        arts = st3_eval.read_articles(root / "train-articles-subtask-3")
        spans23: dict[str, list[tuple[int, int, str]]] = {a: [] for a in arts}
        known = set(load_techniques().names)
        for sp in st3_eval.read_spans(root / "train-labels-subtask-3-spans", arts):
            if sp.technique in known:
                spans23[sp.article_id].append((sp.start, sp.end, sp.technique))
        plabels = st3_eval.read_paragraph_labels(root / "train-labels-subtask-3.txt")
        for a, t in arts.items():
            d = TrainDoc(a, t, "semeval2023", spans23[a])
            d.paragraph_labels = {
                p.line: [x for x in plabels.get((a, p.line), []) if x in known] for p in st3_eval.paragraphs(a, t)
            }
            docs.append(d)
    if not docs:
        raise ValueError("no training data: give the PTC folder, the SemEval-2023 T3 'en' folder, or both")
    return docs


def parse_docs(docs: Sequence[TrainDoc], cache_dir: str | Path | None = None) -> None:
    """Parse the training texts with the shared pipeline (cached as a DocBin when ``cache_dir``)."""
    from spacy.tokens import DocBin

    from ..nlp import load_nlp

    nlp = load_nlp()
    todo = [d for d in docs if d.doc is None]
    if not todo:
        return
    cache = tensors = None
    if cache_dir:
        import hashlib

        key = hashlib.sha256("\x00".join(d.text for d in todo).encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"techniques-parse-{key}.spacy"
        tensors = cache.with_suffix(".tensors.npy")  # a DocBin drops the tok2vec tensors
        if cache.is_file() and tensors.is_file():
            flat = np.load(tensors)
            at = 0
            for d, doc in zip(todo, DocBin().from_disk(cache).get_docs(nlp.vocab), strict=False):
                doc.tensor = flat[at : at + len(doc)]
                at += len(doc)
                d.doc = doc
            return
    for d, doc in zip(todo, nlp.pipe((d.text for d in todo), batch_size=16), strict=False):
        d.doc = doc
    if cache is not None and tensors is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        DocBin(store_user_data=False, docs=[d.doc for d in todo]).to_disk(cache)
        np.save(tensors, np.concatenate([_tensor(d.doc) for d in todo]).astype(np.float32))


# --------------------------------------------------------------------------- parse helpers


def _tensor(doc: Any) -> np.ndarray:
    t = getattr(doc, "tensor", None)
    if t is None or getattr(t, "ndim", 0) != 2 or t.shape[1] != TENSOR_DIM or t.shape[0] != len(doc):
        return np.zeros((len(doc), TENSOR_DIM), dtype=np.float32)
    return np.asarray(t, dtype=np.float32)


def _sentences(doc: Any) -> list[tuple[int, int]]:
    """Token ranges of sentences; newline tokens are hard boundaries and are left out."""
    out: list[tuple[int, int]] = []
    for sent in doc.sents:
        start = sent.start
        for tok in sent:
            if tok.is_space:
                if tok.i > start:
                    out.append((start, tok.i))
                start = tok.i + 1
        if start < sent.end:
            out.append((start, sent.end))
    return out


def _quote_flags(doc: Any) -> list[bool]:
    """Whether each token sits inside quotation marks (straight quotes toggle; resets at newlines)."""
    inside, flags = False, []
    for tok in doc:
        t = tok.text
        if "\n" in t:
            inside = False
        if t in ("“", "«"):
            inside = True
        flags.append(inside)
        if t == '"':
            inside = not inside
        elif t in ("”", "»"):
            inside = False
    return flags


# --------------------------------------------------------------------------- small plain-format models


class Tfidf:
    """A TF-IDF vectoriser (scikit-learn's when fitted, ``textvec``'s when loaded) that saves as a
    vocabulary list and an idf array."""

    def __init__(self, **params: Any) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.params = {"sublinear_tf": True, "dtype": np.float32, **params}
        self.vec = TfidfVectorizer(**self.params)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vec.fit_transform(texts)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.vec.transform(texts)

    def state(self) -> tuple[dict[str, Any], np.ndarray]:
        vocab = sorted(self.vec.vocabulary_, key=self.vec.vocabulary_.__getitem__)
        params = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in self.params.items()
            if k not in ("dtype", "vocabulary")
        }
        return {"params": params, "vocab": vocab}, self.vec.idf_.astype(np.float32)

    @classmethod
    def from_state(cls, meta: dict[str, Any], idf: np.ndarray) -> Tfidf:
        """A saved vectoriser, for inference only: ``textvec`` computes the same vectors without
        importing scikit-learn, which would double the start-up time."""
        from ..textvec import TfidfTransform

        self = cls.__new__(cls)
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()}
        self.params = {"sublinear_tf": True, **params}  # the default of __init__
        self.vec = TfidfTransform.from_params({w: i for i, w in enumerate(meta["vocab"])}, idf, self.params)
        return self


@dataclass
class Linear:
    """Weights of a (multinomial or one-vs-rest) logistic regression."""

    classes: list[str]
    coef: np.ndarray  # (n_classes, n_features), or (1, n) for a binary model
    intercept: np.ndarray
    multinomial: bool = True

    @classmethod
    def fit(
        cls,
        X: Any,
        y: Sequence[Any] | np.ndarray,
        C: float = 1.0,
        multinomial: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> Linear:
        from sklearn.linear_model import LogisticRegression

        if len(set(y)) < 2:  # degenerate (tiny data): a constant model
            only = str(next(iter(y), "0"))
            return cls([only], np.zeros((1, X.shape[1]), np.float32), np.zeros(1, np.float32), True)
        lr = LogisticRegression(C=C, max_iter=200, tol=1e-3, random_state=SEED).fit(X, y, sample_weight=sample_weight)
        return cls(
            [str(c) for c in lr.classes_],
            lr.coef_.astype(np.float32),
            lr.intercept_.astype(np.float32),
            multinomial,
        )

    @classmethod
    def fit_ovr(cls, X: Any, Y: np.ndarray, classes: list[str], C: float = 1.0) -> Linear:
        from sklearn.linear_model import LogisticRegression

        coef = np.zeros((len(classes), X.shape[1]), dtype=np.float32)
        icpt = np.full(len(classes), -10.0, dtype=np.float32)
        for j in range(len(classes)):
            if 0 < Y[:, j].sum() < len(Y):
                lr = LogisticRegression(C=C, solver="liblinear", random_state=SEED).fit(X, Y[:, j])
                coef[j], icpt[j] = lr.coef_[0], lr.intercept_[0]
        return cls(classes, coef, icpt, multinomial=False)

    def proba(self, X: Any) -> np.ndarray:
        z = np.asarray(X @ self.coef.T) + self.intercept
        if not self.multinomial:
            return 1.0 / (1.0 + np.exp(-z))
        if len(self.classes) == 1:
            return np.ones((z.shape[0], 1))
        if z.shape[1] == 1:  # binary: column is P(classes[1])
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1 - p1, p1], axis=1)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def _save_linear(arrays: dict[str, np.ndarray], meta: dict[str, Any], name: str, m: Linear) -> None:
    arrays[f"{name}.coef"], arrays[f"{name}.intercept"] = m.coef.astype(np.float16), m.intercept
    meta[name] = {"classes": m.classes, "multinomial": m.multinomial}


def _load_linear(arrays: Any, meta: dict[str, Any], name: str) -> Linear:
    return Linear(
        meta[name]["classes"],
        arrays[f"{name}.coef"].astype(np.float32),
        arrays[f"{name}.intercept"],
        meta[name]["multinomial"],
    )


# --------------------------------------------------------------------------- features


def _sentence_texts(doc: Any, sents: list[tuple[int, int]]) -> list[str]:
    return [doc[a:b].text for a, b in sents]


def _mean_rows(t: np.ndarray, a: int, b: int) -> np.ndarray:
    v = t[a:b].mean(axis=0) if b > a else np.zeros(t.shape[1], np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _token_features(
    doc: Any,
    sents: list[tuple[int, int]],
    clusters: np.ndarray,
    prior: np.ndarray,
    te: TargetEncoding | None = None,
    lexicon: dict[str, float] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """One list of crfsuite feature dicts per sentence. ``lexicon``: biased-word rates (BABE) by lower-cased word."""
    quoted = _quote_flags(doc)
    for si, (a, b) in enumerate(sents):
        toks = list(doc[a:b])
        p = float(prior[si])
        base: list[dict[str, Any]] = []
        for k, tok in enumerate(toks):
            low = tok.lower_
            base.append(
                {
                    "w": low,
                    "l": tok.lemma_.lower(),
                    "p": tok.pos_,
                    "t": tok.tag_,
                    "d": tok.dep_,
                    "sh": tok.shape_ if len(tok.shape_) <= 4 else tok.shape_[:2] + tok.shape_[-2:],
                    "s3": low[-3:],
                    "p3": low[:3],
                    "c": int(clusters[tok.i - 0]) if len(clusters) else 0,
                    "hl": tok.head.lemma_.lower(),
                    "dh": f"{tok.dep_}>{tok.head.pos_}",
                    "e": tok.ent_iob_ + tok.ent_type_,
                    "q": quoted[tok.i],
                    "ti": tok.is_title,
                    "up": tok.is_upper and len(low) > 1,
                    "st": tok.is_stop,
                    "first": k == 0,
                    "last": k == len(toks) - 1,
                }
            )
        seq = []
        for k, f in enumerate(base):
            feats: dict[str, Any] = {"bias": 1.0, "prior": p, f"pb{int(p * 10)}": 1.0}
            for key, val in f.items():
                if isinstance(val, bool):
                    if val:
                        feats[key] = 1.0
                else:
                    feats[f"{key}={val}"] = 1.0
            for off in (-2, -1, 1, 2):
                j = k + off
                if 0 <= j < len(base):
                    g = base[j]
                    feats[f"{off}w={g['w']}"] = 1.0
                    feats[f"{off}p={g['p']}"] = 1.0
                    feats[f"{off}c={g['c']}"] = 1.0
                    if g["q"]:
                        feats[f"{off}q"] = 1.0
                else:
                    feats[f"{off}edge"] = 1.0
            if k > 0:
                feats[f"bi={base[k - 1]['w']}|{f['w']}"] = 1.0
            seq.append(feats)
        if te is not None:
            words = ["<s>"] + [f["w"] for f in base]  # the keys of _te_keys, from the features built above
            rates = [te.rates((f["l"], f["w"], f"{words[k]}|{f['w']}")) for k, f in enumerate(base)]
            for k, feats in enumerate(seq):
                for kind, r in zip(te.KINDS, rates[k], strict=True):
                    feats[f"te{kind}"] = r
                    feats[f"te{kind}b{min(9, int(r * 10))}"] = 1.0
                for off in (-1, 1):
                    if 0 <= k + off < len(seq):
                        feats[f"{off}tel"] = rates[k + off][0]
        if lexicon:
            biased = [lexicon.get(f["w"], 0.0) for f in base]
            for k, feats in enumerate(seq):
                if biased[k]:
                    feats["bw"] = biased[k]
                    feats[f"bwb{min(9, int(biased[k] * 10))}"] = 1.0
                for off in (-1, 1):
                    if 0 <= k + off < len(seq) and biased[k + off]:
                        feats[f"{off}bw"] = biased[k + off]
        yield seq


def _bio(doc: Any, sents: list[tuple[int, int]], spans: Iterable[tuple[int, int]]) -> list[list[str]]:
    merged = ptc_eval.merge_spans(spans)
    out = []
    for a, b in sents:
        tags, prev = [], -1
        for tok in doc[a:b]:
            s, e = tok.idx, tok.idx + len(tok.text)
            hit = next((i for i, (gs, ge) in enumerate(merged) if gs < e and s < ge), -1)
            tags.append("O" if hit < 0 else ("I" if hit == prev else "B"))
            prev = hit
        out.append(tags)
    return out


TE_MIN_COUNT = 2  # a key needs this many training occurrences to get its own rate
TE_SMOOTH = 5.0  # pseudo-count of the overall rate


def _te_keys(doc: Any, a: int, b: int) -> list[tuple[str, str, str]]:
    """Target-encoding keys of each token of doc[a:b]: lemma, lowercased word, bigram with the previous."""
    out, prev = [], "<s>"
    for tok in doc[a:b]:
        low = tok.lower_
        out.append((tok.lemma_.lower(), low, f"{prev}|{low}"))
        prev = low
    return out


class TargetEncoding:
    """How often a lemma / word / bigram was inside a gold span: (inside, total) counts per key."""

    KINDS = ("l", "w", "b")

    def __init__(self, counts: dict[str, dict[str, list[int]]] | None = None) -> None:
        self.counts: dict[str, dict[str, list[int]]] = counts or {k: {} for k in self.KINDS}
        pos = sum(v[0] for v in self.counts["w"].values())
        tot = sum(v[1] for v in self.counts["w"].values())
        self.base = pos / tot if tot else 0.0

    @classmethod
    def from_counters(cls, pos: Counter[tuple[int, str]], tot: Counter[tuple[int, str]]) -> TargetEncoding:
        counts: dict[str, dict[str, list[int]]] = {k: {} for k in cls.KINDS}
        for (kind, key), n in tot.items():
            if n >= TE_MIN_COUNT:
                counts[cls.KINDS[kind]][key] = [pos[(kind, key)], n]
        return cls(counts)

    def rates(self, keys: tuple[str, str, str]) -> list[float]:
        out = []
        for kind, key in zip(self.KINDS, keys, strict=True):
            c = self.counts[kind].get(key)
            out.append(self.base if c is None else (c[0] + TE_SMOOTH * self.base) / (c[1] + TE_SMOOTH))
        return out


def _te_count(doc: Any, sents: list[tuple[int, int]], tags: list[list[str]]) -> tuple[Counter, Counter]:
    pos: Counter[tuple[int, str]] = Counter()
    tot: Counter[tuple[int, str]] = Counter()
    for (a, b), tt in zip(sents, tags, strict=True):
        for keys, tag in zip(_te_keys(doc, a, b), tt, strict=True):
            for kind, key in enumerate(keys):
                tot[(kind, key)] += 1
                if tag != "O":
                    pos[(kind, key)] += 1
    return pos, tot


_WORD = re.compile(r"\w+")


def _span_dense(text: str, low_text: str, start: int, end: int, sent: tuple[int, int]) -> list[float]:
    span = low_text[start:end].strip()
    n_occ = low_text.count(span) if span else 0
    before = low_text[:start].count(span) if span else 0
    words = _WORD.findall(span)
    content = max(words, key=len) if words else ""
    n_word = len(re.findall(rf"\b{re.escape(content)}\b", low_text)) if content else 0
    raw = text[start:end]
    return [
        math.log1p(n_occ),
        math.log1p(before),
        float(before > 0),
        math.log1p(n_word),
        math.log1p(len(raw)),
        math.log1p(len(words)),
        float("?" in raw),
        float("!" in raw),
        float(raw[:1].isupper()),
        sum(c.isupper() for c in raw) / max(1, len(raw)),
        (end - start) / max(1, sent[1] - sent[0]),
        float(raw.strip().startswith(('"', "“", "'"))),
    ]


@dataclass
class SpanInput:
    text: str
    context: str
    vec: np.ndarray  # tensor features: span mean, sentence mean
    dense: list[float]
    syntax: str = ""  # POS tags, entity types and root dependency of the span, two words either side


def _span_syntax(doc: Any, a: int, b: int) -> str:
    toks = doc[a:b]
    root = toks.root if b > a else None
    parts = [t.pos_ for t in toks] + [f"E:{t.ent_type_}" for t in toks if t.ent_type_]
    if root is not None:
        parts.append(f"D:{root.dep_}")
    parts += [f"L:{t.lower_}" for t in doc[max(0, a - 2) : a] if not t.is_space]
    parts += [f"R:{t.lower_}" for t in doc[b : b + 2] if not t.is_space]
    return " ".join(parts)


LEN_BUCKETS = (1, 2, 3, 5, 8, 12, 20)  # upper bounds (words) of the span-length buckets


def _len_buckets(n_words: int) -> list[float]:
    k = next((i for i, ub in enumerate(LEN_BUCKETS) if n_words <= ub), len(LEN_BUCKETS))
    return [float(i == k) for i in range(len(LEN_BUCKETS) + 1)]


def _span_inputs(
    doc: Any,
    spans: Sequence[tuple[int, int]],
    buckets: bool = False,
    syntax: bool = False,
    lexicon: dict[str, float] | None = None,
) -> list[SpanInput]:
    text = doc.text
    low = text.lower()
    t = _tensor(doc)
    sent_chars = [(s.start_char, s.end_char, s.start, s.end) for s in doc.sents]
    out = []
    for start, end in spans:
        sc = next((x for x in sent_chars if x[0] <= start < x[1]), (start, end, 0, 0))
        cs = doc.char_span(start, end, alignment_mode="expand")
        a, b = (cs.start, cs.end) if cs is not None else (sc[2], sc[3])
        vec = np.concatenate([_mean_rows(t, a, b), _mean_rows(t, sc[2], sc[3])])
        dense = _span_dense(text, low, start, end, (sc[0], sc[1]))
        if buckets:
            dense += _len_buckets(len(_WORD.findall(text[start:end])))
        if lexicon is not None:
            rates = [lexicon.get(w, 0.0) for w in LEXICON_WORD.findall(low[start:end])] or [0.0]
            dense += [max(rates), sum(rates) / len(rates), math.log1p(sum(r > 0 for r in rates))]
        syn = _span_syntax(doc, a, b) if syntax else ""
        out.append(SpanInput(text[start:end], text[sc[0] : sc[1]], vec, dense, syn))
    return out


# --------------------------------------------------------------------------- the model


BIAS_LEXICON_USES = ("", "crf", "span", "crf+span")


@dataclass
class Params:
    """Settings fixed before any evaluation (not tuned on test folds)."""

    clusters: int = 128
    crf_c1: float = 0.05
    crf_c2: float = 0.05
    crf_iterations: int = 100
    crf_minfreq: int = 2
    # 1 - P(O) a token needs to be part of a span (with tune_threshold: the tie-break of the inner search)
    span_threshold: float = 0.4
    span_C: float = 4.0
    para_C: float = 2.0
    # SemEval-2023 spans mapped to the PTC classes added to the PTC classifier's training data:
    # "none", "new" (articles PTC lacks) or "all"; weighted by ``tc_extra_weight``
    tc_extra: str = "none"
    tc_extra_weight: float = 1.0
    # token "target encoding": smoothed in-span rates of lemma / word / bigram as CRF features
    # (out-of-fold on the tagger's own training articles)
    target_encoding: bool = False
    # span classification post-processing: spans with the same text in an article share their
    # class probabilities
    tc_share: bool = False
    tc_len_buckets: bool = False  # one-hot span-length buckets among the span classifier's features
    tc_syntax: bool = False  # TF-IDF of the span's POS tags, entity types, root dependency, neighbours
    tagger_corpus: str = "ptc+new"  # "ptc" or "ptc+new" (SemEval-2023 articles PTC lacks)
    tune_threshold: bool = False  # choose span_threshold on inner out-of-fold CRF marginals
    # BABE's biased words (words experts marked in at least ``bias_lexicon_marks`` sentences, with the
    # rate at which each was marked) as features of the "crf" (the token's and its neighbours' rates),
    # the "span" classifier (highest and mean rate, count), or "crf+span"; "" for none
    bias_lexicon: str = ""  # one of BIAS_LEXICON_USES
    bias_lexicon_marks: int = 2
    # the fine-tuned transformer (technique_tagger): its P(inside) is mixed with the CRF's with
    # weight ``neural_weight`` (1.0: the CRF is not run), its PTC class probabilities with the
    # linear classifier's with weight ``neural_tc_weight``
    neural: bool = False
    neural_weight: float = 0.5
    neural_threshold: float = 0.35  # span_threshold when the tagger alone finds spans
    neural_tc_weight: float = 0.5
    neural_epochs: int = 3
    # "minilm": the fine-tuned MiniLM; "mpnet": the frozen all-mpnet-base-v2 of technique_frozen,
    # whose span head learns from the articles of ``neural_corpus`` ("ptc" or "ptc+new")
    neural_encoder: str = "minilm"
    neural_corpus: str = "ptc"
    neural_heads: int = 1  # frozen-mpnet span heads (seeds) whose probabilities are averaged


# The shipped "mpnet" model: three frozen-mpnet span heads (seeds) over layers 4, 6 and 8, trained on the
# PTC articles and the SemEval-2023 articles PTC lacks, their P(inside) averaged, then mixed 3:1 with the
# CRF's (whose P(B) splits adjacent spans) and decoded at 0.35: bench_technique_frozen.py (key "2+crf0.25"
# of technique_frozen_decoding.json), SI 0.453 cross-fitted, against 0.434 for one head alone and 0.440
# for the previous two heads over layers 8, 10 and 12; a third head 0.456 there, and SI 0.453 against 0.447
# in the package CV (bench_techniques.py --model mpnet). Its span classes are averaged with the linear
# classifier's.
MPNET_PARAMS = Params(
    neural=True,
    neural_encoder="mpnet",
    neural_weight=0.75,
    span_threshold=0.35,
    neural_corpus="ptc+new",
    neural_heads=3,
)


class TechniqueModel:
    """The trained parts; ``fit`` / ``predict_spans`` / ``classify`` / ``save`` / ``load``."""

    def __init__(
        self,
        params: Params | None = None,
        cache_dir: str | Path | None = None,
        lexicon: dict[str, float] | None = None,
    ) -> None:
        self.params = params or Params()
        self.cache_dir = cache_dir  # where fine-tuned taggers of identical runs are reused
        self.neural: NeuralTagger | FrozenTagger | None = None
        self._neural_run: tuple[str, Any] | None = None  # (text, run) of the last document
        self.centroids = np.zeros((0, TENSOR_DIM), np.float32)
        self.prior_words: Tfidf | None = None
        self.prior: Linear | None = None
        self.te: TargetEncoding | None = None
        self.lexicon = lexicon or {}  # BABE biased-word rates (see Params.bias_lexicon)
        self.span_threshold = self.params.span_threshold
        self.crf_path: Path | None = None
        self._tagger: Any = None
        self.span_tfidf: dict[str, Tfidf] = {}
        self.dense_mean = np.zeros(0, np.float32)
        self.dense_std = np.ones(0, np.float32)
        self.span_clf: dict[str, Linear] = {}  # scheme -> classifier
        self.para_tfidf: Tfidf | None = None
        self.para_clf: Linear | None = None
        self.para_threshold = 0.5
        self.info: dict[str, Any] = {}
        self._tmp: Any = None

    @property
    def _crf_lexicon(self) -> dict[str, float] | None:
        return self.lexicon if "crf" in self.params.bias_lexicon else None

    @property
    def _span_lexicon(self) -> dict[str, float] | None:
        return self.lexicon if "span" in self.params.bias_lexicon else None

    @property
    def uses_crf(self) -> bool:
        """False when the fine-tuned tagger alone finds the spans (the CRF is then not trained)."""
        return not (self.params.neural and self.params.neural_weight >= 1.0)

    # ----- pieces shared by fit and predict

    def _clusters(self, doc: Any) -> np.ndarray:
        if not len(self.centroids):
            return np.zeros(len(doc), np.int64)
        t = _tensor(doc)
        d = (t**2).sum(1)[:, None] - 2 * t @ self.centroids.T + (self.centroids**2).sum(1)[None]
        return d.argmin(1)

    def _prior_X(self, doc: Any, sents: list[tuple[int, int]]) -> Any:
        assert self.prior_words is not None
        t = _tensor(doc)
        dense = np.stack([_mean_rows(t, a, b) for a, b in sents]) if sents else np.zeros((0, TENSOR_DIM))
        return sparse.hstack(
            [self.prior_words.transform(_sentence_texts(doc, sents)), sparse.csr_matrix(dense)]
        ).tocsr()

    def _span_X(self, items: Sequence[SpanInput]) -> Any:
        tf = self.span_tfidf
        dense = (np.array([i.dense for i in items], np.float32) - self.dense_mean) / self.dense_std
        return sparse.hstack(
            [
                tf["word"].transform([i.text for i in items]),
                tf["char"].transform([i.text for i in items]),
                tf["ctx"].transform([i.context for i in items]) * 0.5,
                sparse.csr_matrix(np.stack([i.vec for i in items])),
                sparse.csr_matrix(dense),
                *([tf["syn"].transform([i.syntax for i in items])] if "syn" in tf else []),
            ]
        ).tocsr()

    def _para_X(self, doc: Any, paras: Sequence[tuple[int, int]]) -> Any:
        assert self.para_tfidf is not None
        t = _tensor(doc)
        vecs = []
        for s, e in paras:
            cs = doc.char_span(s, e, alignment_mode="expand")
            vecs.append(_mean_rows(t, cs.start, cs.end) if cs is not None else np.zeros(TENSOR_DIM, np.float32))
        text = doc.text  # built anew on every access
        texts = [text[s:e] for s, e in paras]
        return sparse.hstack([self.para_tfidf.transform(texts), sparse.csr_matrix(np.stack(vecs))]).tocsr()

    # ----- training

    def fit(self, docs: Sequence[TrainDoc], work_dir: str | Path | None = None) -> TechniqueModel:
        """Train every part on parsed training documents (see ``load_corpora``, ``parse_docs``)."""
        t0 = time.time()
        if self.uses_crf:
            self.fit_tagger(docs, work_dir)
            log.info("CRF trained (%.0fs)", time.time() - t0)
        if self.params.neural:
            self.fit_neural(docs, work_dir)
            log.info("technique tagger trained (%.0fs)", time.time() - t0)
        n_spans = self.fit_span_classifiers(docs)
        log.info("span classifiers trained (%.0fs)", time.time() - t0)
        # paragraph classifier (SemEval-2023 paragraphs), threshold from inner out-of-fold predictions
        pdocs = [d for d in docs if d.scheme == "semeval2023"]
        if pdocs:
            self._fit_paragraphs(pdocs)
        self.info = {
            "trained": time.strftime("%Y-%m-%d"),
            "seconds": round(time.time() - t0),
            "articles": {s: sum(d.scheme == s for d in docs) for s in ("ptc", "semeval2023")},
            "spans": n_spans,
        }
        return self

    def fit_tagger(self, docs: Sequence[TrainDoc], work_dir: str | Path | None = None) -> None:
        """Tensor clusters, the sentence prior and the CRF span tagger."""
        import pycrfsuite
        from sklearn.cluster import MiniBatchKMeans

        t0 = time.time()
        p = self.params
        if p.bias_lexicon not in BIAS_LEXICON_USES:
            raise ValueError(f"Params.bias_lexicon = {p.bias_lexicon!r}: choose one of {BIAS_LEXICON_USES}")
        if p.bias_lexicon and not self.lexicon:
            raise ValueError("these technique params read BABE's biased words: give the BABE folder (--babe DIR)")
        # Span tagger data: PTC articles, plus SemEval-2023 articles that PTC does not cover.
        ptc_ids = {d.id for d in docs if d.scheme == "ptc"}
        tag_docs = [d for d in docs if d.scheme == "ptc" or (p.tagger_corpus == "ptc+new" and d.id not in ptc_ids)]
        # 1. tensor clusters
        sample = np.concatenate([_tensor(d.doc) for d in tag_docs])
        rng = np.random.default_rng(SEED)
        sample = sample[rng.permutation(len(sample))[:200_000]]
        km = MiniBatchKMeans(min(p.clusters, len(sample)), random_state=SEED, n_init=3, batch_size=4096).fit(sample)
        self.centroids = km.cluster_centers_.astype(np.float32)
        # 2. sentence prior, cross-fitted so the CRF sees honest values on its own training data
        sents = {id(d): _sentences(d.doc) for d in tag_docs}
        s_text, s_y, s_grp, s_vec = [], [], [], []
        for gi, d in enumerate(tag_docs):
            merged = ptc_eval.merge_spans((s, e) for s, e, _ in d.spans)
            t = _tensor(d.doc)
            for a, b in sents[id(d)]:
                cs, ce = d.doc[a].idx, d.doc[b - 1].idx + len(d.doc[b - 1].text)
                s_text.append(d.doc[a:b].text)
                s_y.append(int(any(gs < ce and cs < ge for gs, ge in merged)))
                s_grp.append(gi)
                s_vec.append(_mean_rows(t, a, b))
        y = np.array(s_y)
        oof = np.zeros(len(y))
        for tr, te in _group_folds(s_grp, 5):
            w = Tfidf(ngram_range=(1, 2), min_df=2, max_features=30000)
            Xtr = sparse.hstack([w.fit_transform([s_text[i] for i in tr]), sparse.csr_matrix(np.array(s_vec)[tr])])
            Xte = sparse.hstack([w.transform([s_text[i] for i in te]), sparse.csr_matrix(np.array(s_vec)[te])])
            oof[te] = _positive(Linear.fit(Xtr.tocsr(), y[tr]), Xte.tocsr())
        self.prior_words = Tfidf(ngram_range=(1, 2), min_df=2, max_features=30000)
        X = sparse.hstack([self.prior_words.fit_transform(s_text), sparse.csr_matrix(np.array(s_vec))]).tocsr()
        self.prior = Linear.fit(X, y)
        log.info("sentence prior ready (%.0fs)", time.time() - t0)
        # 3. CRF tagger
        tags = {id(d): _bio(d.doc, sents[id(d)], [(s, e) for s, e, _ in d.spans]) for d in tag_docs}
        inner_te: dict[int, TargetEncoding] = {}
        self.te = None
        if p.target_encoding:  # rates from the other inner folds for training articles, all for new ones
            counts = [_te_count(d.doc, sents[id(d)], tags[id(d)]) for d in tag_docs]
            all_pos, all_tot = Counter[tuple[int, str]](), Counter[tuple[int, str]]()
            for cp, ct in counts:
                all_pos.update(cp)
                all_tot.update(ct)
            self.te = TargetEncoding.from_counters(all_pos, all_tot)
            for _, te_idx in _group_folds(list(range(len(tag_docs))), 5):
                f_pos, f_tot = all_pos.copy(), all_tot.copy()
                for i in te_idx:
                    f_pos.subtract(counts[i][0])
                    f_tot.subtract(counts[i][1])
                enc = TargetEncoding.from_counters(f_pos, f_tot)
                inner_te.update({int(i): enc for i in te_idx})
        offsets = np.cumsum([0] + [len(sents[id(d)]) for d in tag_docs])
        lexicon = self._crf_lexicon

        def features(di: int) -> Iterator[list[dict[str, Any]]]:
            d = tag_docs[di]
            prior = oof[offsets[di] : offsets[di + 1]]
            return _token_features(d.doc, sents[id(d)], self._clusters(d.doc), prior, inner_te.get(di), lexicon)

        def train_crf(indices: Iterable[int], path: Path) -> None:
            trainer = pycrfsuite.Trainer(verbose=False)
            trainer.set_params(
                {
                    "c1": p.crf_c1,
                    "c2": p.crf_c2,
                    "max_iterations": p.crf_iterations,
                    "feature.minfreq": p.crf_minfreq,
                    "feature.possible_transitions": True,
                }
            )
            for di in indices:
                for xseq, yseq in zip(features(di), tags[id(tag_docs[di])], strict=False):
                    if xseq:
                        trainer.append(xseq, yseq)
            trainer.train(str(path))

        self._tmp = tempfile.TemporaryDirectory() if work_dir is None else None
        wd = Path(work_dir) if work_dir is not None else Path(self._tmp.name)
        wd.mkdir(parents=True, exist_ok=True)
        self.span_threshold = p.span_threshold
        if p.tune_threshold:  # the decoding threshold that maximises SI F1 on inner out-of-fold marginals
            grid = [round(float(x), 3) for x in np.arange(0.1, 0.55, 0.05)]
            gold: list[ptc_eval.PTCSpan] = []
            pred: dict[float, list[ptc_eval.PTCSpan]] = {th: [] for th in grid}
            for tr, te in _group_folds(list(range(len(tag_docs))), 2):
                train_crf(tr, wd / "inner.crfsuite")
                inner = pycrfsuite.Tagger()
                inner.open(str(wd / "inner.crfsuite"))
                for di in te:
                    d = tag_docs[di]
                    if d.scheme != "ptc":
                        continue
                    gold += [ptc_eval.PTCSpan(d.id, s, e) for s, e, _ in d.spans]
                    marg = [
                        (a, _seq_marginals(inner, xs)) for (a, _), xs in zip(sents[id(d)], features(di), strict=False)
                    ]
                    for th in grid:
                        pred[th] += [ptc_eval.PTCSpan(d.id, s, e) for s, e, _ in decode_spans(d.doc, marg, th)]
                inner.close()
            f1 = {th: ptc_eval.score_si(gold, pred[th])["f1"] for th in grid}
            self.span_threshold = max(grid, key=lambda th: (f1[th], -abs(th - p.span_threshold)))
            log.info("inner SI F1 by threshold %s -> %.2f", f1, self.span_threshold)
        self.crf_path = wd / "tagger.crfsuite"
        train_crf(range(len(tag_docs)), self.crf_path)
        self._tagger = None

    def fit_neural(self, docs: Sequence[TrainDoc], work_dir: str | Path | None = None) -> None:
        """Fine-tune the transformer tagger on the PTC articles (reused from ``cache_dir`` when an
        identical run is there)."""
        from . import technique_frozen, technique_tagger

        ptc = [(d.id, d.text, d.spans) for d in docs if d.scheme == "ptc"]
        where = self.cache_dir or work_dir or self._tmpdir()
        if self.params.neural_encoder == "mpnet":
            ids = {d.id for d in docs if d.scheme == "ptc"}
            new = [(d.id, d.text, d.spans) for d in docs if d.scheme != "ptc" and d.id not in ids]
            span_docs = ptc + (new if self.params.neural_corpus == "ptc+new" else [])
            frozen = FrozenParams(heads=self.params.neural_heads)
            self.neural = FrozenTagger(technique_frozen.train_cached(span_docs, ptc, where, frozen))
        else:
            params = technique_tagger.TrainParams(epochs=self.params.neural_epochs)
            self.neural = NeuralTagger(technique_tagger.train_cached(ptc, where, params))
        if not self.uses_crf:
            self.span_threshold = self.params.neural_threshold

    def _tmpdir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory()
        return str(self._tmp.name)

    def _run_neural(self, doc: Any) -> Any:
        assert self.neural is not None
        text = doc.text
        if self._neural_run is None or self._neural_run[0] != text:
            self._neural_run = (text, self.neural.run(text))
        return self._neural_run[1]

    def fit_span_classifiers(self, docs: Sequence[TrainDoc]) -> dict[str, int]:
        """The span technique classifiers (one per scheme) on the gold spans; returns span counts."""
        p = self.params
        items: dict[str, list[SpanInput]] = {"ptc": [], "semeval2023": []}
        labels: dict[str, list[str]] = {"ptc": [], "semeval2023": []}
        origin: list[str] = []  # article id of each SemEval-2023 span
        for d in docs:
            if d.spans:
                items[d.scheme] += _span_inputs(
                    d.doc, [(s, e) for s, e, _ in d.spans], p.tc_len_buckets, p.tc_syntax, self._span_lexicon
                )
                labels[d.scheme] += [lab for _, _, lab in d.spans]
                if d.scheme == "semeval2023":
                    origin += [d.id] * len(d.spans)
        allitems = items["ptc"] + items["semeval2023"]
        self.span_tfidf = {
            "word": Tfidf(ngram_range=(1, 2), min_df=2, max_features=20000),
            "char": Tfidf(analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=20000),
            "ctx": Tfidf(ngram_range=(1, 1), min_df=2, max_features=10000),
        }
        self.span_tfidf["word"].vec.fit([i.text for i in allitems])
        self.span_tfidf["char"].vec.fit([i.text for i in allitems])
        self.span_tfidf["ctx"].vec.fit([i.context for i in allitems])
        if p.tc_syntax:
            self.span_tfidf["syn"] = Tfidf(ngram_range=(1, 2), min_df=3, token_pattern=r"\S+", lowercase=False)
            self.span_tfidf["syn"].vec.fit([i.syntax for i in allitems])
        dense = np.array([i.dense for i in allitems], np.float32)
        self.dense_mean, self.dense_std = dense.mean(0), dense.std(0) + 1e-6
        self.span_clf = {}
        for s in items:
            if not items[s]:
                continue
            X, y, w = self._span_X(items[s]), list(labels[s]), np.ones(len(labels[s]))
            if s == "ptc" and p.tc_extra != "none" and items["semeval2023"]:
                tax, ptc_ids = load_techniques(), {d.id for d in docs if d.scheme == "ptc"}
                keep = [
                    i
                    for i, (lab, aid) in enumerate(zip(labels["semeval2023"], origin, strict=True))
                    if tax.to_ptc(lab) and (p.tc_extra == "all" or aid not in ptc_ids)
                ]
                if keep:
                    X = sparse.vstack([X, self._span_X([items["semeval2023"][i] for i in keep])]).tocsr()
                    y += [tax.to_ptc(labels["semeval2023"][i]) or "" for i in keep]
                    w = np.concatenate([w, np.full(len(keep), p.tc_extra_weight)])
            self.span_clf[s] = Linear.fit(X, y, C=p.span_C, sample_weight=w)
        return {s: len(labels[s]) for s in labels}

    def _fit_paragraphs(self, pdocs: Sequence[TrainDoc]) -> None:
        classes = load_techniques().names
        texts, vecs, Y, grp = [], [], [], []
        for gi, d in enumerate(pdocs):
            t = _tensor(d.doc)
            for para in st3_eval.paragraphs(d.id, d.text):
                cs = d.doc.char_span(para.start, para.end, alignment_mode="expand")
                texts.append(d.text[para.start : para.end])
                vecs.append(_mean_rows(t, cs.start, cs.end) if cs is not None else np.zeros(TENSOR_DIM))
                labs = set(d.paragraph_labels.get(para.line, []))
                Y.append([c in labs for c in classes])
                grp.append(gi)
        Ya, V = np.array(Y, dtype=int), np.array(vecs, np.float32)
        oof = np.zeros(Ya.shape)
        for tr, te in _group_folds(grp, 3):
            w = Tfidf(ngram_range=(1, 2), min_df=2, max_features=30000)
            Xtr = sparse.hstack([w.fit_transform([texts[i] for i in tr]), sparse.csr_matrix(V[tr])]).tocsr()
            Xte = sparse.hstack([w.transform([texts[i] for i in te]), sparse.csr_matrix(V[te])]).tocsr()
            oof[te] = Linear.fit_ovr(Xtr, Ya[tr], classes, C=self.params.para_C).proba(Xte)
        best = max(np.arange(0.1, 0.6, 0.025), key=lambda th: _micro_f1(Ya, oof >= th))
        self.para_threshold = float(best)
        self.para_tfidf = Tfidf(ngram_range=(1, 2), min_df=2, max_features=30000)
        X = sparse.hstack([self.para_tfidf.fit_transform(texts), sparse.csr_matrix(V)]).tocsr()
        self.para_clf = Linear.fit_ovr(X, Ya, classes, C=self.params.para_C)

    # ----- prediction

    @property
    def tagger(self) -> Any:
        if self._tagger is None:
            import pycrfsuite

            if self.crf_path is None:
                raise RuntimeError("the technique model is not trained or loaded")
            self._tagger = pycrfsuite.Tagger()
            self._tagger.open(str(self.crf_path))
        return self._tagger

    def marginals(self, doc: Any) -> list[tuple[int, np.ndarray]]:
        """Per sentence: its first token and the CRF marginals (P(in a span), P(B)) of its tokens."""
        sents = _sentences(doc)
        if not sents:
            return []
        w = self.params.neural_weight if self.neural is not None else 0.0
        if w < 1.0:
            assert self.prior is not None
            prior = _positive(self.prior, self._prior_X(doc, sents))
            feats = _token_features(doc, sents, self._clusters(doc), prior, self.te, self._crf_lexicon)
            crf = [(a, _seq_marginals(self.tagger, xseq)) for (a, _b), xseq in zip(sents, feats, strict=False)]
        else:
            crf = [(a, np.zeros((b - a, 2))) for a, b in sents]
        if w == 0.0:
            return crf
        assert self.neural is not None
        return mix_marginals(crf, self.neural.token_probs(doc, self._run_neural(doc)), w)

    def predict_spans(self, doc: Any, threshold: float | None = None) -> list[tuple[int, int, float]]:
        """Character spans (start, end, confidence) where the text persuades, for one parsed doc."""
        th = self.span_threshold if threshold is None else threshold
        return decode_spans(doc, self.marginals(doc), th)

    def classify(self, doc: Any, spans: Sequence[tuple[int, int]], scheme: str = "semeval2023") -> np.ndarray:
        """Class probabilities of spans (columns: ``self.span_clf[scheme].classes``)."""
        clf = self.span_clf[scheme]
        if not spans:
            return np.zeros((0, len(clf.classes)))
        items = _span_inputs(doc, spans, self.params.tc_len_buckets, self.params.tc_syntax, self._span_lexicon)
        proba = clf.proba(self._span_X(items))
        if scheme == "ptc" and self.neural is not None and self.params.neural_tc_weight > 0:
            v = self.params.neural_tc_weight
            head = self.neural.span_proba(doc.text, spans, self._run_neural(doc))
            cols = [self.neural.classes.index(c) if c in self.neural.classes else -1 for c in clf.classes]
            aligned = np.where(np.array(cols) >= 0, head[:, np.maximum(cols, 0)], 0.0)
            proba = (1.0 - v) * proba + v * aligned
        if self.params.tc_share:
            groups: dict[str, list[int]] = {}
            for i, it in enumerate(items):
                groups.setdefault(" ".join(_WORD.findall(it.text.lower())), []).append(i)
            for idx in groups.values():
                if len(idx) > 1:
                    proba[idx] = proba[idx].mean(axis=0)
        return proba

    def paragraph_proba(self, doc: Any, paras: Sequence[tuple[int, int]]) -> np.ndarray:
        if self.para_clf is None or not paras:
            return np.zeros((len(paras), len(load_techniques().names)))
        return self.para_clf.proba(self._para_X(doc, paras))

    # ----- persistence

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if not self.span_clf or (self.uses_crf and (self.crf_path is None or self.prior is None)):
            raise RuntimeError("fit the model before saving it")
        if self.crf_path is not None and self.crf_path.resolve() != (out / "tagger.crfsuite").resolve():
            (out / "tagger.crfsuite").write_bytes(self.crf_path.read_bytes())
        arrays: dict[str, np.ndarray] = {
            "centroids": self.centroids,
            "dense_mean": self.dense_mean,
            "dense_std": self.dense_std,
        }
        meta: dict[str, Any] = {
            "version": VERSION,
            "params": self.params.__dict__,
            "info": self.info,
            "para_threshold": self.para_threshold,
            "tagger_threshold": self.span_threshold,
            "tfidf": {},
        }
        if self.te is not None:
            meta["target_encoding"] = self.te.counts
        if self.lexicon:
            meta["bias_lexicon"] = self.lexicon
        tfidfs = {f"span_{k}": v for k, v in self.span_tfidf.items()}
        if self.prior_words is not None:
            tfidfs["prior_words"] = self.prior_words
        if self.para_tfidf is not None:
            tfidfs["para"] = self.para_tfidf
        for name, tf in tfidfs.items():
            meta["tfidf"][name], arrays[f"{name}.idf"] = tf.state()
        if self.prior is not None:
            _save_linear(arrays, meta, "prior", self.prior)
        for s, clf in self.span_clf.items():
            _save_linear(arrays, meta, f"span_{s}", clf)
        if self.para_clf is not None:
            _save_linear(arrays, meta, "para", self.para_clf)
        np.savez_compressed(out / "arrays.npz", **arrays)  # type: ignore[arg-type]
        if self.neural is not None:
            import shutil

            target = out / "neural"
            if target.resolve() != self.neural.folder.resolve():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(self.neural.folder, target)
        (out / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path = MODEL_DIR) -> TechniqueModel:
        train = "narrascope train techniques"
        src = require_files(path, ("model.json", "arrays.npz"), "technique model", train)
        meta = json.loads((src / "model.json").read_text(encoding="utf-8"))
        self = cls(Params(**meta.get("params", {})))
        if self.uses_crf:
            require_files(src, ("tagger.crfsuite",), "technique model", train)
        arr = np.load(src / "arrays.npz")
        self.centroids, self.dense_mean, self.dense_std = (
            arr["centroids"],
            arr["dense_mean"],
            arr["dense_std"],
        )
        tf = {n: Tfidf.from_state(m, arr[f"{n}.idf"]) for n, m in meta["tfidf"].items()}
        self.prior_words, self.para_tfidf = tf.get("prior_words"), tf.get("para")
        self.span_tfidf = {k[5:]: v for k, v in tf.items() if k.startswith("span_")}
        self.prior = _load_linear(arr, meta, "prior") if "prior" in meta else None
        self.te = TargetEncoding(meta["target_encoding"]) if "target_encoding" in meta else None
        self.lexicon = meta.get("bias_lexicon", {})
        self.span_threshold = meta.get("tagger_threshold", self.params.span_threshold)
        self.span_clf = {k[5:]: _load_linear(arr, meta, k) for k in meta if k.startswith("span_")}
        self.para_clf = _load_linear(arr, meta, "para") if "para" in meta else None
        if self.params.neural:
            self.neural = (FrozenTagger if self.params.neural_encoder == "mpnet" else NeuralTagger)(src / "neural")
        self.para_threshold, self.info = meta["para_threshold"], meta["info"]
        self.crf_path = src / "tagger.crfsuite" if self.uses_crf else None
        return self


def _seq_marginals(tagger: Any, xseq: list[dict[str, Any]]) -> np.ndarray:
    """(P(in a span), P(B)) of each token of one sentence."""
    labels = set(tagger.labels())
    tagger.set(xseq)
    m = np.zeros((len(xseq), 2))
    for k in range(len(xseq)):
        m[k, 0] = 1.0 - tagger.marginal("O", k) if "O" in labels else 0.0
        m[k, 1] = tagger.marginal("B", k) if "B" in labels else 0.0
    return m


def mix_marginals(crf: list[tuple[int, np.ndarray]], p_in: np.ndarray, w: float) -> list[tuple[int, np.ndarray]]:
    """CRF marginals per sentence with P(in) mixed with a tagger's per-token ``p_in`` (weight ``w``);
    P(B) is scaled by the CRF's weight, as only the CRF knows where one span ends and the next begins."""
    return [(a, np.stack([(1.0 - w) * m[:, 0] + w * p_in[a : a + len(m)], (1.0 - w) * m[:, 1]], 1)) for a, m in crf]


def decode_spans(doc: Any, marginals: list[tuple[int, np.ndarray]], th: float) -> list[tuple[int, int, float]]:
    """Spans from token marginals: runs of tokens with P(in) >= ``th``, split where P(B) dominates;
    runs made only of stop words and punctuation are dropped."""
    out = []
    for a, m in marginals:
        cur: list[Any] = []
        for k in range(len(m)):
            p_in, p_b = float(m[k, 0]), float(m[k, 1])
            tok = doc[a + k]
            if p_in >= th and not (cur and p_b > p_in - p_b):
                cur.append((tok, p_in))
                continue
            if cur:
                out.append(_close(cur))
            cur = [(tok, p_in)] if p_in >= th else []
        if cur:
            out.append(_close(cur))
    return [s for s in out if s[1] > s[0]]


def _close(cur: list[Any]) -> tuple[int, int, float]:
    # Trim punctuation at the edges: gold spans rarely start or end on it.
    toks = [t for t, _ in cur]
    probs = [p for _, p in cur]
    while toks and toks[-1].is_punct and toks[-1].text not in ("”", '"', "’", "'"):
        toks.pop()
        probs.pop()
    while toks and toks[0].is_punct and toks[0].text not in ("“", '"', "‘"):
        toks.pop(0)
        probs.pop(0)
    # A span of stop words alone ("to", "or", "in the") is noise, not a technique: dropped.
    if all(t.is_stop or t.is_punct for t in toks):
        return (0, 0, 0.0)
    return (toks[0].idx, toks[-1].idx + len(toks[-1].text), float(np.mean(probs)))


def _positive(clf: Linear, X: Any) -> np.ndarray:
    """P(class 1) of a binary model (constant for a degenerate one)."""
    p = clf.proba(X)
    if len(clf.classes) == 1:
        return np.full(X.shape[0], float(clf.classes[0] == "1"))
    return p[:, clf.classes.index("1")]


def _group_folds(groups: Sequence[int], n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds by group; with fewer than two groups, one 'fold' that trains and predicts in-sample."""
    from sklearn.model_selection import GroupKFold

    k = min(n, len(set(groups)))
    idx = np.arange(len(groups))
    if k < 2:
        return [(idx, idx)]
    return list(GroupKFold(k).split(idx, idx, list(groups)))


def _micro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    tp = float((Y & P).sum()) if Y.dtype == bool else float(((Y == 1) & P).sum())
    return 2 * tp / max(1.0, float(Y.sum() + P.sum()))


# --------------------------------------------------------------------------- the analyser


@analysers.register("techniques")
class TechniqueAnalyser:
    """Adds ``techniques`` findings (spans), ``technique_sentences`` and ``technique_paragraphs``
    findings, and ``article.meta["technique_density"]`` (technique spans per 100 sentences)."""

    name = "techniques"
    version = VERSION
    requires: tuple[str, ...] = ()

    def __init__(self, model: TechniqueModel | str | Path | None = None, threshold: float | None = None) -> None:
        self._model = model if isinstance(model, TechniqueModel) else None
        self._path = Path(model) if isinstance(model, (str, Path)) else None
        self.threshold = threshold

    # estimator API
    def fit(self, docs: Sequence[TrainDoc], work_dir: str | Path | None = None) -> TechniqueAnalyser:
        self._model = TechniqueModel().fit(docs, work_dir)
        return self

    def save(self, path: str | Path) -> Path:
        return self.model.save(path)

    @classmethod
    def load(cls, path: str | Path = MODEL_DIR) -> TechniqueAnalyser:
        return cls(TechniqueModel.load(path))

    @property
    def model(self) -> TechniqueModel:
        if self._model is None:
            self._model = _shipped(str(self._path or default_model_path()))
        return self._model

    def predict(self, article: Article) -> list[Finding]:
        """The technique spans of one article (parsed on demand), without changing it."""
        doc = _doc_of(article)
        m, tax = self.model, load_techniques()
        spans = m.predict_spans(doc, self.threshold)
        proba = m.classify(doc, [(s, e) for s, e, _ in spans])
        classes = m.span_clf["semeval2023"].classes
        out = []
        for (s, e, conf), p in zip(spans, proba, strict=False):
            order = np.argsort(-p)
            label = classes[order[0]]
            out.append(
                Finding(
                    layer="techniques",
                    label=label,
                    start=s,
                    end=e,
                    score=round(conf * float(p[order[0]]), 4),
                    analyser=self.name,
                    version=self.version,
                    attrs={
                        "text": article.text[s:e],
                        "span_score": round(conf, 4),
                        "technique_score": round(float(p[order[0]]), 4),
                        "category": tax.category_of(label),
                        "ptc": tax.to_ptc(label),
                        "alternatives": {classes[i]: round(float(p[i]), 4) for i in order[1:3]},
                    },
                )
            )
        return out

    def __call__(self, article: Article) -> Article:
        from ..evaluate.semeval2023 import paragraphs

        spans = self.predict(article)
        doc = article.doc
        findings = [
            f for f in article.findings if f.layer not in ("techniques", "technique_sentences", "technique_paragraphs")
        ]
        findings += spans
        for s in article.sentences:
            labs = _labels_in(spans, s.start, s.end)
            if labs:
                findings.append(
                    Finding(
                        "technique_sentences",
                        ",".join(sorted(labs)),
                        s.start,
                        s.end,
                        max(labs.values()),
                        self.name,
                        self.version,
                        {"techniques": sorted(labs)},
                    )
                )
        paras = [(p.start, p.end) for p in paragraphs(article.id, article.text)]
        pp = self.model.paragraph_proba(doc, paras)
        classes, th = load_techniques().names, self.model.para_threshold
        for (ps, pe), row in zip(paras, pp, strict=False):
            from_spans = _labels_in(spans, ps, pe)
            from_para = {classes[j]: round(float(row[j]), 4) for j in np.flatnonzero(row >= th)}
            for lab in sorted({*from_spans, *from_para}):
                sc = max(from_spans.get(lab, 0.0), from_para.get(lab, 0.0))
                findings.append(
                    Finding(
                        "technique_paragraphs",
                        lab,
                        ps,
                        pe,
                        sc,
                        self.name,
                        self.version,
                        {"from_spans": lab in from_spans, "from_paragraph": lab in from_para},
                    )
                )
        article.findings = findings
        n_sent = len(article.sentences) or len(_sentences(doc))
        article.meta["technique_density"] = round(100.0 * len(spans) / n_sent, 2) if n_sent else 0.0
        return article


def _labels_in(spans: Sequence[Finding], start: int, end: int) -> dict[str, float]:
    labs: dict[str, float] = {}
    for f in spans:
        assert f.start is not None and f.end is not None
        if f.start < end and start < f.end:
            labs[f.label] = max(labs.get(f.label, 0.0), f.score)
    return labs


def _doc_of(article: Article) -> Any:
    if article.doc is None:
        from ..nlp import parse

        parse([article])
    return article.doc


_MODELS: dict[str, TechniqueModel] = {}


def default_model_path(name: str | None = None) -> Path:
    """The model folder of the ``techniques_model`` setting: "crf", "neural", "mpnet" or a path."""
    from ..settings import get_settings

    name = name or get_settings().techniques_model
    return {"crf": MODEL_DIR, "neural": NEURAL_MODEL_DIR, "mpnet": MPNET_MODEL_DIR}.get(name, Path(name))


def _shipped(path: str) -> TechniqueModel:
    if path not in _MODELS:
        _MODELS[path] = TechniqueModel.load(path)
    return _MODELS[path]


# --------------------------------------------------------------------------- train / evaluate / predict


def train(
    ptc_dir: str | Path | None,
    semeval2023_dir: str | Path | None,
    out_path: str | Path = MODEL_DIR,
    *,
    cache_dir: str | Path | None = None,
    params: Params | None = None,
    babe_dir: str | Path | None = None,
) -> Path:
    """Train on the PTC and SemEval-2023 T3 English train sets and save the artefact to ``out_path``;
    ``babe_dir`` gives BABE's biased words when the params read them."""
    docs = load_corpora(ptc_dir, semeval2023_dir)
    parse_docs(docs, cache_dir)
    model = TechniqueModel(params, cache_dir, _lexicon(params, babe_dir)).fit(docs)
    return model.save(out_path)


def evaluate(
    ptc_dir: str | Path,
    semeval2023_dir: str | Path,
    *,
    folds: int = 5,
    cache_dir: str | Path | None = None,
    params: Params | None = None,
    only_folds: Sequence[int] | None = None,
    predictions_dir: str | Path | None = None,
    babe_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Cross-validate by article with the official measures: PTC SI partial-overlap F1, PTC TC
    micro-F1 on gold spans, SemEval-2023 ST3 paragraph micro-F1.

    The corpora share articles (the 2023 set re-annotates the PTC train set), so folds are drawn
    over article ids and both corpora follow them. ``only_folds`` runs some folds (e.g. one per
    process); ``predictions_dir`` keeps each fold's gold and predictions as ``fold<k>.json``, which
    ``score_predictions`` pools.
    """
    docs = load_corpora(ptc_dir, semeval2023_dir)
    parse_docs(docs, cache_dir)
    lexicon = _lexicon(params, babe_dir)  # BABE is not split: it holds none of these articles
    fold_of = article_folds(docs, folds)
    runs = []
    for k in range(folds) if only_folds is None else only_folds:
        t0 = time.time()
        model = TechniqueModel(params, cache_dir, lexicon).fit([d for d in docs if fold_of[d.id] != k])
        fit_s = time.time() - t0
        run = _predict_fold(model, [d for d in docs if fold_of[d.id] == k])
        run.update(fold=k, fit_seconds=round(fit_s), span_threshold=model.span_threshold)
        runs.append(run)
        if predictions_dir is not None:
            Path(predictions_dir).mkdir(parents=True, exist_ok=True)
            (Path(predictions_dir) / f"fold{k}.json").write_text(json.dumps(run), encoding="utf-8")
        log.info("fold %d: %s", k, _scores([run]))
    return {
        "version": VERSION,
        "folds": folds,
        "split": "by article id, shared by PTC and SemEval-2023 T3",
        "params": (params or Params()).__dict__,
        **_pooled(runs),
    }


def _lexicon(params: Params | None, babe_dir: str | Path | None) -> dict[str, float] | None:
    p = params or Params()
    if not p.bias_lexicon or babe_dir is None:
        return None
    from .slant import biased_word_rates

    return biased_word_rates(babe_dir, p.bias_lexicon_marks)


def article_folds(docs: Sequence[TrainDoc], folds: int) -> dict[str, int]:
    """The cross-validation fold of each article id (shared by PTC and SemEval-2023 T3)."""
    ids = sorted({d.id for d in docs})
    order = np.random.default_rng(SEED).permutation(len(ids))
    return {ids[i]: k % folds for k, i in enumerate(order)}


def score_predictions(files: Iterable[str | Path]) -> dict[str, Any]:
    """Pool the per-fold predictions written by ``evaluate(predictions_dir=...)`` and score them."""
    return _pooled([json.loads(Path(f).read_text(encoding="utf-8")) for f in files])


def _pooled(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Scores of the pooled fold runs, and of each fold."""
    return {
        **_scores(runs),
        "folds_run": [r["fold"] for r in runs],
        "per_fold": [{"fold": r["fold"], "span_threshold": r.get("span_threshold"), **_scores([r])} for r in runs],
    }


def _predict_fold(model: TechniqueModel, test_docs: Sequence[TrainDoc]) -> dict[str, Any]:
    run: dict[str, Any] = {
        k: []
        for k in (
            "gold_si",
            "pred_si",
            "gold_tc",
            "pred_tc",
            "gold_st3",
            "pred_st3",
            "pred_st3_spans",
            "pred_st3_paragraphs",
            "ms",
        )
    }
    analyser = TechniqueAnalyser(model)
    for d in test_docs:
        if d.scheme == "ptc":
            t0 = time.perf_counter()
            spans = model.predict_spans(d.doc)
            run["ms"].append(1000 * (time.perf_counter() - t0))
            run["pred_si"] += [[d.id, s, e] for s, e, _ in spans]
            run["gold_si"] += [[d.id, s, e] for s, e, _ in d.spans]
            g_tc = [ptc_eval.PTCSpan(d.id, s, e, lab) for s, e, lab in d.spans]
            run["gold_tc"] += [[s.article_id, s.start, s.end, s.technique] for s in g_tc]
            run["pred_tc"] += [[s.article_id, s.start, s.end, s.technique] for s in _classify_tc(model, d.doc, g_tc)]
        else:
            art = Article(d.text, id=d.id)
            art.doc = d.doc
            analyser(art)
            by_start: dict[int, list[Finding]] = {}
            for f in art.findings_of("technique_paragraphs"):
                by_start.setdefault(f.start or 0, []).append(f)
            for p in st3_eval.paragraphs(d.id, d.text):
                fs = by_start.get(p.start, [])
                run["gold_st3"].append([d.id, p.line, d.paragraph_labels.get(p.line, [])])
                run["pred_st3"].append([d.id, p.line, sorted({f.label for f in fs})])
                run["pred_st3_spans"].append([d.id, p.line, sorted({f.label for f in fs if f.attrs.get("from_spans")})])
                run["pred_st3_paragraphs"].append(
                    [d.id, p.line, sorted({f.label for f in fs if f.attrs.get("from_paragraph")})]
                )
    return run


def _scores(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def cat(key: str) -> list[Any]:
        return [x for r in runs for x in r[key]]

    out: dict[str, Any] = {
        "ptc_si": ptc_eval.score_si(
            [ptc_eval.PTCSpan(a, s, e) for a, s, e in cat("gold_si")],
            [ptc_eval.PTCSpan(a, s, e) for a, s, e in cat("pred_si")],
        ),
        "ptc_tc": ptc_eval.score_tc(
            [ptc_eval.PTCSpan(*x) for x in cat("gold_tc")], [ptc_eval.PTCSpan(*x) for x in cat("pred_tc")]
        ),
    }
    gold = {(a, n): labs for a, n, labs in cat("gold_st3")}
    if gold:
        out["semeval2023_st3"] = st3_eval.score_st3(gold, {(a, n): labs for a, n, labs in cat("pred_st3")})
        for variant in ("spans", "paragraphs"):
            pred = {(a, n): labs for a, n, labs in cat(f"pred_st3_{variant}")}
            out[f"semeval2023_st3_{variant}_only"] = st3_eval.score_st3(gold, pred)["micro_f1"]
    ms = cat("ms")
    out["tagger_ms_per_article"] = round(float(np.mean(ms)), 1) if ms else None
    return out


def _classify_tc(model: TechniqueModel, doc: Any, spans: Sequence[ptc_eval.PTCSpan]) -> list[ptc_eval.PTCSpan]:
    return label_repeated(spans, model.span_clf["ptc"].classes, lambda uniq: model.classify(doc, uniq, "ptc"))


def label_repeated(
    spans: Sequence[ptc_eval.PTCSpan], classes: Sequence[str], proba: Callable[[list[tuple[int, int]]], np.ndarray]
) -> list[ptc_eval.PTCSpan]:
    """PTC classes for given spans of one article, from ``proba`` (class probabilities of the distinct
    spans, columns ``classes``); a span listed k times gets its k most likely distinct classes."""
    if not spans:
        return []
    uniq = sorted({(s.start, s.end) for s in spans})
    ranked = {u: [classes[i] for i in np.argsort(-p)] for u, p in zip(uniq, proba(uniq), strict=False)}
    seen: Counter[tuple[int, int]] = Counter()
    out = []
    for s in spans:
        key = (s.start, s.end)
        out.append(ptc_eval.PTCSpan(s.article_id, s.start, s.end, ranked[key][seen[key] % len(classes)]))
        seen[key] += 1
    return out


def _st3_predict(analyser: TechniqueAnalyser, art: Article) -> dict[tuple[str, int], list[str]]:
    """Subtask-3 labels per paragraph line of one article (paragraph classifier + spans inside)."""
    analyser(art)
    out: dict[tuple[str, int], list[str]] = {}
    labs_at: dict[int, list[str]] = {}
    for f in art.findings_of("technique_paragraphs"):
        assert f.start is not None
        labs_at.setdefault(f.start, []).append(f.label)
    for p in st3_eval.paragraphs(art.id, art.text):
        out[(art.id, p.line)] = sorted(set(labs_at.get(p.start, [])))
    return out


def _load_parsed(texts: dict[str, str]) -> list[Article]:
    from ..nlp import parse

    return parse([Article(t, id=a) for a, t in texts.items()])


def predict_ptc_si(articles_dir: str | Path, out: str | Path, model_path: str | Path | None = None) -> int:
    """Write a PTC SI submission for a folder of ``article<ID>.txt``; returns the number of spans."""
    model = TechniqueModel.load(model_path) if model_path else _shipped(str(default_model_path()))
    spans = []
    for art in _load_parsed(ptc_eval.read_articles(articles_dir)):
        spans += [ptc_eval.PTCSpan(art.id, s, e) for s, e, _ in model.predict_spans(art.doc)]
    ptc_eval.write_si(spans, out)
    return len(spans)


def predict_ptc_tc(
    articles_dir: str | Path, spans_file: str | Path, out: str | Path, model_path: str | Path | None = None
) -> int:
    """Write a PTC TC submission: a technique for every span of ``spans_file`` (TC template or labels)."""
    model = TechniqueModel.load(model_path) if model_path else _shipped(str(default_model_path()))
    texts = ptc_eval.read_articles(articles_dir)
    spans = ptc_eval.read_tc(spans_file, texts, template=True)
    by_art: dict[str, list[ptc_eval.PTCSpan]] = {}
    for s in spans:
        by_art.setdefault(s.article_id, []).append(s)
    arts = {a.id: a for a in _load_parsed({a: texts[a] for a in by_art})}
    labelled: dict[tuple[str, int, int, int], ptc_eval.PTCSpan] = {}
    for aid, ss in by_art.items():
        for i, lab in enumerate(_classify_tc(model, arts[aid].doc, ss)):
            labelled[(aid, ss[i].start, ss[i].end, i)] = lab
    ptc_eval.write_tc(labelled.values(), out)  # keeps the template's order within each article
    return len(labelled)


def predict_semeval2023_st3(articles_dir: str | Path, out: str | Path, model_path: str | Path | None = None) -> int:
    """Write a SemEval-2023 T3 subtask-3 submission for a folder of ``article<ID>.txt``."""
    model = TechniqueModel.load(model_path) if model_path else _shipped(str(default_model_path()))
    a = TechniqueAnalyser(model)
    preds: dict[tuple[str, int], list[str]] = {}
    for art in _load_parsed(st3_eval.read_articles(articles_dir)):
        preds.update(_st3_predict(a, art))
    st3_eval.write_paragraph_labels(preds, out)
    return len(preds)
