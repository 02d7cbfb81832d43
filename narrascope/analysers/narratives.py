"""Narrative detection (SemEval-2025 Task 10 taxonomy): multi-label, two levels, with evidence.

The model is a cascade of linear heads over TF-IDF word n-grams (optionally averaged with heads over
document vectors from a sentence encoder, which may also learn from the other languages' articles; the
gate's may also read the article's slant, ``slant.py``):

1. a *gate*: does the article carry any narrative of the taxonomy, or is it ``Other``?
2. a *topic*: which domain (``URW`` war, ``CC`` climate): only that domain's labels may be predicted;
3. coarse narratives of that domain;
4. fine narratives, each head trained inside its coarse parent (the catch-all ``<coarse>: Other`` is a
   label like any other).

The label definitions and examples of the taxonomy are added as short extra training documents; a coarse or fine
label's score also moves with how close the article's sentences come in meaning to them (the label closeness).
Decoding maximises each article's expected F1-samples: each level's scores are calibrated (Platt scaling,
one set of parameters per level, fitted on out-of-fold scores inside the training data), each level takes
the top labels that maximise its expected F1, and the article is ``Other`` when that is the better bet.
The older decoder, global thresholds tuned by grid search, stays as an ablation (``decoder="thresholds"``);
neither tunes anything per label (per-label settings overfit with ~200 narrative articles). Evidence
sentences are, among the ones whose own features push the label's linear score most, those closest in
meaning to the label's definition (MiniLM); the explanation quotes the strongest of them.

The artefact is plain data: ``model.npz`` (arrays) and ``model.json`` (vocabulary, labels, calibration, thresholds).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..document import Article, Finding, Sentence
from ..embed import get_encoder, unit_rows
from ..errors import require_files
from ..ingest.clean import inline_links, is_boilerplate_line, without_trailing_stamp
from ..nlp import OPEN_ENDED_WORDS, breaks_mid_sentence, load_nlp
from ..registry import analysers
from ..taxonomy.narratives import Taxonomy, load_taxonomy
from .quotes import SPEECH_VERBS
from .slant import FEATURES as SLANT_FEATURES
from .slant import SlantModel, load_slant

VERSION = "1.0.0"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "narratives"
MPNET_MODEL_DIR = MODEL_DIR.with_name("narratives-mpnet")  # the same, plus all-mpnet-base-v2 vector heads
MAX_EXPLANATION_WORDS = 80

# --- configuration ------------------------------------------------------------------------------


@dataclass
class NarrativeConfig:
    """What the model uses; each switch is one ablation of ``bench/bench_narratives.py``."""

    gate: bool = True  # "Other" vs narrative head
    topic: bool = True  # restrict labels to the predicted domain
    hierarchy: bool = True  # fine labels only inside predicted coarse labels
    definitions: bool = True  # taxonomy definitions/examples as extra training documents
    embeddings: bool = False  # average TF-IDF heads with heads over document vectors
    embed_weight: float = 0.5
    encoder: str = "minilm-int8"  # of the document vectors; "use-m3" is multilingual
    doc_sentences: int = 80  # a document vector is the mean of its first sentences' vectors
    embed_C: float | None = None  # C of the document-vector heads (None: C)
    other_languages: bool = False  # document-vector heads also learn from the other languages' articles
    # A slant model (``analysers/slant.py``; "mpnet" is the shipped one, or a folder) over the same encoder:
    # the article's slant (how many of its sentences read as biased) joins the gate's document-vector head.
    slant: str = ""
    slant_weight: float = 0.3  # scale of the standardised slant features beside the unit document vector
    # Ranks a label's evidence sentences by their closeness to its definition ("": by TF-IDF weight alone).
    evidence_encoder: str = "minilm-int8"
    # Weights of the article's closeness in meaning to each coarse / fine label's definition and examples (the mean
    # of its CLOSENESS_TOP closest sentences, standardised over the training articles), added to the label's logit.
    closeness_coarse: float = 0.0
    closeness_fine: float = 0.0
    # How scores become labels: "expected_f1" (calibrated probabilities, the label sets and the "Other" choice
    # that maximise the expected F1 of each article) or "thresholds" (global thresholds tuned by grid search).
    decoder: str = "expected_f1"
    C: float = 10.0
    class_weight: str | None = "balanced"
    max_features: int = 40000
    ngram_max: int = 2
    min_df: int = 2
    inner_folds: int = 4
    seed: int = 13

    def vectors(self, texts: Sequence[str], sentences: Sequence[list[Sentence]] | None = None) -> np.ndarray:
        """Document vectors as this configuration makes them."""
        return document_vectors(texts, sentences, self.encoder, self.doc_sentences, self.slant)

    @property
    def closeness(self) -> bool:
        return bool(self.closeness_coarse or self.closeness_fine)


# The shipped default ("minilm") model: the TF-IDF heads averaged with heads over MiniLM vectors of the
# article's first 3 sentences (its title and lead), which the evidence ranker loads anyway; see
# bench/bench_narratives.py, rows "minilm3" (0.577 / 0.484 over five splits, against 0.565 / 0.465 for the
# TF-IDF heads alone), "minilm5" and "minilm15" (as good, but over the 50 ms budget).
# Each coarse and fine label's logit also moves with the article's closeness in meaning to the label's definition and
# examples (row "full": 0.593 / 0.511 over five splits, against 0.587 / 0.498 for row "no_closeness").
DEFAULT_CONFIG = NarrativeConfig(
    embeddings=True, doc_sentences=3, embed_C=1.0, closeness_coarse=0.5, closeness_fine=0.25
)

# The shipped "mpnet" model: the TF-IDF heads averaged with heads over all-mpnet-base-v2 vectors of
# the first 15 sentences (the ``mpnet`` extra), the gate's also over the article's slant, and the label closeness
# over mpnet vectors with the default model's weights; see bench/bench_narratives.py, rows "mpnet" (0.619 / 0.533
# over five splits), "mpnet_no_closeness" (0.613 / 0.522) and "mpnet_no_slant".
MPNET_CONFIG = NarrativeConfig(
    embeddings=True,
    encoder="mpnet",
    doc_sentences=15,
    embed_C=1.0,
    slant="mpnet",
    closeness_coarse=DEFAULT_CONFIG.closeness_coarse,
    closeness_fine=DEFAULT_CONFIG.closeness_fine,
)
SLANT_MAX_SENTENCES = 200  # sentences of an article read for its slant
MIN_EVIDENCE_WORDS = 3  # of a sentence given as evidence
MIN_QUOTE_WORDS = 5  # of a clause quoted from a long evidence sentence, when it has any that long
CUT_CLAUSE_END = 0.6  # weight of a quote ending before a conjunction or inside a list, not at a clause's punctuation
OUTSIDE_QUOTATION = 0.6  # weight of a quote outside the quotation marks of a sentence that quotes someone at length
LONG_SENTENCE_SLACK = 5  # words over the quote limit a sentence may have and be quoted whole rather than cut mid-clause
MAX_ATTRIBUTION_WORDS = 5  # a quote begun in a quotation may go on past it by these ("wrote Ring for Daily News")
SUBORDINATE_OPENING = 0.6  # weight of a quote opening on a subordinate clause or a relative, not on a main clause
EVIDENCE_CHARS = 300  # of a sentence read for its meaning (cost grows with length; few sentences are longer)
EVIDENCE_POOL = 60  # sentences read for their meaning at most; in a longer article, those of most TF-IDF weight
# Evidence is ranked by closeness in meaning to the label plus this weight times the sentence's TF-IDF push for it,
# each standardised over the article's sentences (chosen leave-one-article-out on bench/gold/evidence_t10_en_30).
EVIDENCE_TFIDF_WEIGHT = 0.25
# A batch's share of narrative articles is estimated as if it held this many more articles at the training share
# (chosen on folds of the training data resampled to other shares: bench/bench_narratives_shift.py).
SHARE_PRIOR_ARTICLES = 10.0
CLOSENESS_SENTENCES = 20  # of an article compared with the labels' definitions and examples
CLOSENESS_TOP = 3  # a label's closeness is the mean similarity of the article's sentences closest to it


DECODERS = ("expected_f1", "thresholds")


@dataclass
class Thresholds:
    gate: float = 0.5
    coarse: float = 0.5  # absolute probability for extra coarse labels beyond the best
    fine: float = 0.5  # same for fine labels inside a coarse label
    relative: float = 0.0  # extra labels must also reach this fraction of the best score


@dataclass
class Calibration:
    """Platt scaling of each level's head scores, fitted on out-of-fold scores inside the training data, one
    ``(a, c, b)`` per level (per label would overfit, as thresholds do):
    ``P = sigmoid(a * logit(score) + c * (logit(score) - logit(best score)) + b)``, where the best score is
    the article's highest among the labels it may get (of its domain; for a fine label, of its parent):
    a label far behind the article's best is less likely than its score alone says. ``c`` is 0 for the gate.
    ``fine`` is a fine label's probability given its coarse parent."""

    gate: tuple[float, float, float] = (1.0, 0.0, 0.0)
    coarse: tuple[float, float, float] = (1.0, 0.0, 0.0)
    fine: tuple[float, float, float] = (1.0, 0.0, 0.0)


# --- small helpers -------------------------------------------------------------------------------

_SPLIT = re.compile(r"[^\n]+")
_SENT_END = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])")
_CLAUSE = re.compile(r"[,;:()\u2014\u2013]\s*|\s-\s")
# Where a clause too long to quote whole may also begin: before a conjunction or relative.
_SUBORDINATORS = "if|because|while|whereas|although|though|which|who|whom|whose|when|where|since|unless|until"
_CONNECTIVES = f"and|but|or|that|{_SUBORDINATORS}"
_CONNECTIVE = re.compile(rf"\s(?=(?:{_CONNECTIVES})\b)", re.IGNORECASE)
_CONNECTIVE_WORD = re.compile(_CONNECTIVES, re.IGNORECASE)
# Two sentences run together without a stop, as a scraper joins a headline and its standfirst ("..., experts say The
# extra sunshine will bring downsides"): a capitalised opener after a lower-case word and before one ("The Hague" and
# "what I think" are not cut, nor "We the People").
_RUN_IN = re.compile(r"(?<=[a-z])\s+(?=(?:The|A|An|It|This|These|Those|He|She|They|We|There)\s+[a-z])(?!We the )")
_WORD = re.compile(r"\w[\w'\u2019-]*")
# Words that open a subordinate clause or a relative one: a quote opening on one reads as half a thought
# ("who are already facing ...", "Despite the stark reality on the ground") beside its sentence's main clause.
# Not one that opens the author's own claim against another's ("when in fact these fires are set").
_SUBORDINATE = re.compile(
    rf"(?:{_SUBORDINATORS}|despite|after|before|as|once|whether)\b(?!,?\s+(?:in fact|in reality|actually)\b)",
    re.IGNORECASE,
)
_QUOTATION = re.compile(r"\u201c[^\u201c\u201d]*\u201d?|\"[^\"]*\"?")  # a quotation, perhaps left open
# A comma inside a list ("in military, financial, and humanitarian aid", "the financial, military and intelligence
# might"): followed by at most three words and another comma, or by one or two words and "and" / "or".
_LIST_COMMA = re.compile(
    r",\s*(?=(?:[\w'\u2019-]+\s+){0,2}[\w'\u2019-]+\s*,|(?:[\w'\u2019-]+\s+){1,2}(?:and|or)\b)", re.IGNORECASE
)
# ... or the comma of ", and" closing a list whose last item before it is one or two words after a comma.
_LIST_LAST_COMMA = re.compile(r"(?<=,)\s*(?:[\w'\u2019-]+\s+)?[\w'\u2019-]+(,\s*)(?=(?:and|or)\b)", re.IGNORECASE)


def _clause_runs(words: list[tuple[int, int]], cuts: list[int], max_words: int) -> list[tuple[int, int]]:
    """Spans of consecutive clauses between ``cuts`` holding 3 to ``max_words`` of ``words``."""
    spans = []
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            inner = [(a, b) for a, b in words if cuts[i] <= a and b <= cuts[j]]
            if len(inner) > max_words:
                break
            if len(inner) >= 3:
                spans.append((inner[0][0], inner[-1][1]))
    return spans


def _clause_bounds(
    words: list[tuple[int, int]], opening: list[int], closing: list[int]
) -> tuple[set[int], set[int]]:
    """Where clauses begin (the start of the first word after each ``opening`` cut) and end (the end of the
    last word before each ``closing`` cut)."""
    starts = {next(a for a, _ in words if a >= cut) for cut in opening if cut <= words[-1][0]}
    ends = {next(b for _, b in reversed(words) if b <= cut) for cut in closing if cut >= words[0][1]}
    return starts, ends


# A word that opens a clause as its subject, after which an opening "that" is the complementiser of a reported claim
# ("says that Kiev was destined to lose"), not a relative pronoun ("outlets that run its stories").
_SUBJECT = re.compile(
    r"(?:the|a|an|this|these|those|it|its|they|their|he|his|she|her|we|our|you|your|i|there|some|many|most|all|no"
    r"|every|each|any|such|one|both|neither|none|[A-Z][\w'\u2019-]*)$"
)
_CURRENCY = ("$", "\u00a3", "\u20ac")
_GOES_ON = re.compile(r"[ \t]*\w")  # the clause goes on after a word
# "so" and "yet" open a quote as conjunctions, to be dropped, except in these phrases ("So far", "yet another").
_SO_YET_ADVERBIAL = frozenset("far much many long called few little often another again more".split())


def _tidy_quote(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """A quoted span without the "and" or "but" it opens with (when more words follow), nor the "that" of a reported
    claim ("that Kiev was destined to lose": the claim itself), nor a preposition, article or auxiliary it was cut
    after; with the currency and per cent signs of the amounts at its ends; without a bracket (round or square) it
    opens at its end ("... war crimes (Image") or closes at its start; and with the closing quotation mark of a
    quotation it opened (a span ends at its last word); and, on the title line of a text read verbatim (the SemEval
    predict commands), without the time stamp a scraper left there ("... Major Problem Published 24 mins ago")."""
    a, b = span
    if "\n" not in text[:b]:
        b = a + len(without_trailing_stamp(text[a:b]))
    words = list(_WORD.finditer(text, a, b))
    opener, second = (words[0].group().lower(), words[1].group().lower()) if len(words) > 1 else ("", "")
    if len(words) > 3 and (
        opener in ("and", "but", "or")
        or (opener in ("so", "yet") and second not in _SO_YET_ADVERBIAL)
        or (opener == "that" and _SUBJECT.match(words[1].group()))
    ):
        a = words[1].start()
    # A span cut mid-clause ends on its last word of weight: "... emissions" of "... emissions in that same period";
    # one ending where its clause does keeps it ("what it is all about.").
    while len(words) > 3 and words[-1].group().lower() in OPEN_ENDED_WORDS and _GOES_ON.match(text, words[-1].end()):
        words.pop()
        b = words[-1].end()
    if text[a - 1 : a] in _CURRENCY:  # a span starts at its first word: "$31,000" keeps its "$"
        a -= 1
    if text[b : b + 1] == "%":  # ... and ends at its last one: "7.5%" keeps its "%"
        b += 1
    for opening, closing in ("()", "[]"):
        if text.count(opening, a, b) > text.count(closing, a, b):
            head = text[a : text.rfind(opening, a, b)].rstrip(" ,;:-\u2014\u2013")
            if len(_WORD.findall(head)) >= 3:
                b = a + len(head)
        elif text.count(closing, a, b) > text.count(opening, a, b):  # a bracket it closes at its start ("ICEs) to")
            close = text.find(closing, a, b) + 1
            rest = text[close:b]
            if len(_WORD.findall(rest)) >= 3:
                a = close + len(rest) - len(rest.lstrip(" ,;:-\u2014\u2013"))
    for opening, closing in ("\u201c\u201d", "\u2018\u2019"):
        if text.count(opening, a, b) > text.count(closing, a, b):
            tail = re.match(rf"[.,!?]?{closing}", text[b : b + 2])
            b += tail.end() if tail else 0
    return a, b


def _quotable_clauses(
    text: str,
    start: int,
    end: int,
    words: list[tuple[int, int]],
    max_words: int,
    in_phrase: Container[int] = (),
) -> tuple[list[tuple[int, int]], set[int], list[tuple[int, int]]]:
    """The runs of clauses of the sentence ``text[start:end]`` (its ``words``) that may be quoted, where its clauses
    end, and its quotations of five words or more. A conjunction or relative starting at an offset of ``in_phrase``
    opens no clause."""
    punctuation = [start + m.end() for m in _CLAUSE.finditer(text[start:end])]
    run_ins = [start + m.end() for m in _RUN_IN.finditer(text[start:end])]
    punctuation += run_ins
    connectives = [start + m.end() for m in _CONNECTIVE.finditer(text[start:end]) if start + m.end() not in in_phrase]
    # Clauses between punctuation read best; a clause too long to quote whole is also cut before its
    # conjunctions and relatives, so that its words can be quoted rather than only the short clauses beside it.
    spans = _clause_runs(words, sorted({start, *punctuation, *connectives, end}), max_words)
    in_list = {start + m.end() for m in _LIST_COMMA.finditer(text[start:end])}
    in_list |= {start + m.end(1) for m in _LIST_LAST_COMMA.finditer(text[start:end])}
    clause_starts, clause_ends = _clause_bounds(
        words, [start, *punctuation], [*(c for c in punctuation if c not in in_list), end]
    )
    # Not a run that ends on a bare conjunction ("... for the EU but": the shorter run, unfinished), nor one
    # opening inside a clause with "and" or "or", which mostly join noun phrases ("and provoke conflict"), nor one
    # across two sentences run together.
    spans = [
        (a, b)
        for a, b in spans
        if not _CONNECTIVE_WORD.fullmatch(text[a:b].rsplit(None, 1)[-1])
        and (a in clause_starts or text[a:b].split(None, 1)[0].lower() not in ("and", "or"))
        and not any(a < c < b for c in run_ins)
    ]
    quoted = [
        (m.start(), m.end()) for m in _QUOTATION.finditer(text, start, end) if len(_WORD.findall(m.group())) >= 5
    ]
    # Nor, when another fits, one that begins inside a quotation and goes on past it with more than its
    # attribution ('... study finds," says that the ice shelves are melting'): it would read as one voice.
    spans = [
        (a, b)
        for a, b in spans
        if not any(q0 < a < q1 and len(_WORD.findall(text, q1, b)) > MAX_ATTRIBUTION_WORDS for q0, q1 in quoted)
    ] or spans
    if not spans:
        spans = [(words[i][0], words[i + max_words - 1][1]) for i in range(len(words) - max_words + 1)]
    long_enough = [(a, b) for a, b in spans if len(_WORD.findall(text, a, b)) >= MIN_QUOTE_WORDS]
    return long_enough or spans, clause_ends, quoted


def _reading_weights(
    text: str, spans: list[tuple[int, int]], clause_ends: set[int], quoted: list[tuple[int, int]]
) -> np.ndarray:
    """How well each span reads as a quote, to multiply its weight for the label by."""
    # Prefer longer clauses slightly (normalised TF-IDF otherwise favours short fragments), and clauses
    # that end at punctuation, not inside a list: one cut before a conjunction or relative often stops mid-thought.
    weights = np.sqrt([len(_WORD.findall(text, a, b)) for a, b in spans])
    weights *= np.where([b in clause_ends for _, b in spans], 1.0, CUT_CLAUSE_END)
    # In a sentence that quotes someone at length, the quoted words carry the narrative, not the attribution
    # around them ("..., Medvedev, a former Russian president ..., said on Telegram").
    inside = [sum(max(0, min(b, q1) - max(a, q0)) for q0, q1 in quoted) >= (b - a) / 2 for a, b in spans]
    if quoted:
        weights *= np.where(inside, 1.0, OUTSIDE_QUOTATION)
    # A quote opening on a subordinate clause, unless its main clause follows inside it ("as we burn fossil fuels,
    # far worse is on the way") or it is someone's quoted words.
    half = [
        not within and _SUBORDINATE.match(text, a, b) is not None and not _CLAUSE.search(text, a, b)
        for (a, b), within in zip(spans, inside, strict=True)
    ]
    return weights * np.where(half, SUBORDINATE_OPENING, 1.0)


_FINITE = frozenset(("VBD", "VBZ", "VBP", "MD"))  # Penn tags of a finite verb
_REPORTED = frozenset(("ccomp", "xcomp", "parataxis"))  # what a verb of speech reports


# Dependents that lean on a head after them, modifiers and subjects: a quote that ends on one ("backed by the entire
# financial" of "... the entire financial and military might"; "..., but electric vehicles" of "... but electric
# vehicles have been a disaster") has cut its phrase in two.
_LEANS_ON_HEAD = frozenset(
    "amod det predet poss nummod compound advmod npadvmod quantmod nmod case cc mark aux auxpass neg prep"
    " nsubj nsubjpass csubj csubjpass expl".split()
)
# What a word needs after it to be whole: a quote that ends on a verb, preposition or copula with its object or
# complement cut off ("... the Ukrainian war machine backed" of "... backed by the entire financial ... might") ends
# before that word.
_COMPLEMENTS = frozenset("dobj pobj agent attr acomp dative oprd pcomp".split())


def _sentence_parse(text: str, start: int, end: int, doc: Any = None) -> tuple[Any, int]:
    """The tokens of the sentence ``text[start:end]`` from ``doc``, the text's spaCy parse, or else from a parse of
    the sentence alone; and the offset to add to a token's ``idx`` to index ``text``."""
    sentence = doc.char_span(start, end, alignment_mode="expand") if doc is not None else None
    return (sentence, 0) if sentence is not None else (load_nlp()(text[start:end]), start)


def _makes_claim(tokens: Any, offset: int, spans: list[tuple[int, int]]) -> np.ndarray:
    """Whether each span of a sentence (its ``tokens`` and their ``offset``, see ``_sentence_parse``) makes a claim of
    its own: it holds a finite verb (or an imperative, "let's survey Kiev's empty coffers") that does not only report
    speech with what it reports left outside the span. Not "One of the world's leading energy experts" (no verb) nor
    "he told the news outlet". All False when the pipeline tags nothing."""
    claims = np.zeros(len(spans), dtype=bool)
    for i, (a, b) in enumerate(spans):
        inside = [t for t in tokens if a <= offset + t.idx < b]
        verbs = [
            t.head if t.dep_ in ("aux", "auxpass") else t
            for t in inside
            if t.tag_ in _FINITE or (t.tag_ == "VB" and t.dep_ == "ROOT")
        ]
        reports = [any(c.dep_ in _REPORTED and a <= offset + c.idx < b for c in v.children) for v in verbs]
        claims[i] = any(v.lemma_.lower() not in SPEECH_VERBS or r for v, r in zip(verbs, reports, strict=True))
    return claims


def _without_dangling_end(tokens: Any, offset: int, a: int, b: int) -> int:
    """The end of the span ``[a, b)`` of a sentence (as in ``_makes_claim``) without the words at its end that lean on
    a word after it ("the entire financial" of "the entire financial and military might") or need one ("backed" of
    "backed by ..."), when at least half of its words and four remain."""
    inside = [t for t in tokens if a <= offset + t.idx and offset + t.idx + len(t) <= b]
    keep = max(4, (len(inside) + 1) // 2)

    def dangles(t: Any) -> bool:  # ``t`` ends the span: does its phrase lean on a word after it, or need one?
        if any(c.dep_ in _COMPLEMENTS and c.i > t.i for c in t.children):
            return True
        phrase = t  # the head of t's phrase within the span ("government" for the "'s" of "the government's")
        while inside[0].i <= phrase.head.i < t.i and phrase.head.i != phrase.i:
            phrase = phrase.head
        return phrase.dep_ in _LEANS_ON_HEAD and phrase.head.i > t.i

    while len(inside) > 3 and (inside[-1].is_punct or dangles(inside[-1])):
        inside.pop()
    return offset + inside[-1].idx + len(inside[-1]) if len(inside) >= keep else b


def split_sentences(text: str) -> list[Sentence]:
    """A simple splitter (lines, then sentence ends) for articles that were not parsed."""
    out: list[Sentence] = []
    for line in _SPLIT.finditer(text):
        start = line.start()
        for m in _SENT_END.finditer(line.group()):
            out.append(Sentence(start, line.start() + m.start()))
            start = line.start() + m.end()
        out.append(Sentence(start, line.end()))
    return [s for s in out if text[s.start : s.end].strip()]


# A full stop after a title or an initial does not end the sentence ("Dr. Watts", "John F. Kennedy"); "U.S." may.
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|Cmdr|Adm|Rev|St|Mt|Jan|Feb|Aug|Sept?|Oct|Nov|Dec)"
    r"|(?<![.\w])[A-Z])\.$"
)


# A quotation closed after a comma goes on with its attribution ("Not for peace," Mettan remarks.).
_QUOTE_GOES_ON = re.compile(r",[\u201d\"]$")
# "U.S." ends a sentence before a word that opens one ("It was in the U.S. The end came."), not before a name it
# belongs to ("the U.S. Energy Information Administration").
_INITIALISM = re.compile(r"\b(?:[A-Z]\.){2,}$")
_OPENER = re.compile(
    r"(?:The|A|An|It|Its|He|His|She|Her|They|Their|We|Our|I|You|Your|This|That|These|Those|There|But|And|Or|So|Yet|In"
    r"|On|At|As|If|When|While|However|Meanwhile|Still|Now|Then|After|Before|Since|For|What|Why|How|Who)\b"
)


def _without_inline_links(text: str, sentences: Sequence[Sentence]) -> list[Sentence]:
    """The sentences with any link to another article set inside them cut out; the pieces around it stay."""
    out: list[Sentence] = []
    for s in sentences:
        links = inline_links(text, s.start, s.end)
        if not links:
            out.append(s)
            continue
        start = s.start
        for a, b in [*links, (s.end, s.end)]:
            piece = text[start:a]
            if piece.strip():
                out.append(Sentence(start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())))
            start = b
    return out


def evidence_sentences(text: str, sentences: Sequence[Sentence]) -> tuple[list[Sentence], list[int]]:
    """The sentences, with links to other articles cut out of them ("(Related: ...)"), and the indices of those
    that may be evidence: a sentence said again (a headline repeated as the first line) is evidence once, where it
    first stands; a fragment of one or two words (a parse that split a headline) or page furniture left in a text
    read verbatim ("READ MORE: ...", or any sentence of a "Note to readers: ..." paragraph) is none."""
    sentences = _without_inline_links(text, sentences)
    seen: set[str] = set()
    eligible = []
    for i, s in enumerate(sentences):
        key = " ".join(text[s.start : s.end].split()).lower()
        line_end = text.find("\n", s.end)
        line = text[text.rfind("\n", 0, s.start) + 1 : line_end if line_end >= 0 else len(text)]
        if (
            key not in seen
            and len(_WORD.findall(key)) >= MIN_EVIDENCE_WORDS
            and not is_boilerplate_line(key)
            and not is_boilerplate_line(line)
        ):
            eligible.append(i)
        seen.add(key)
    return sentences, eligible


def _standardised(values: np.ndarray) -> np.ndarray:
    """Values as standard scores (all zero when they do not vary)."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def reading_sentences(text: str) -> list[Sentence]:
    """Sentences to quote from when an article has no parse: ``split_sentences`` (which the models' document
    vectors were trained on, so it stays as it is) without its cuts after a title, an initial, an initialism before
    a name ("the U.S. Energy Information Administration") or a quotation closed after a comma, nor at a line break
    inside a sentence (as the parse, ``nlp.breaks_mid_sentence``)."""
    out: list[Sentence] = []
    for s in split_sentences(text):
        if not out:
            out.append(s)
            continue
        last = out[-1]
        if "\n" in text[last.end : s.start]:
            goes_on = breaks_mid_sentence(text, last.end, s.start)
        else:
            goes_on = bool(
                _ABBREVIATION.search(text, last.start, last.end)
                or _QUOTE_GOES_ON.search(text, last.start, last.end)
                or (_INITIALISM.search(text, last.start, last.end) and not _OPENER.match(text, s.start))
            )
        if goes_on:
            out[-1] = Sentence(last.start, s.end)
        else:
            out.append(s)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _vectorizer(cfg: NarrativeConfig, vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, cfg.ngram_max),
        sublinear_tf=True,
        min_df=cfg.min_df,
        max_df=0.9,
        max_features=cfg.max_features,
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def document_vectors(
    texts: Sequence[str],
    sentences: Sequence[list[Sentence]] | None = None,
    encoder: str = "minilm-int8",
    max_sentences: int = 80,
    slant: str = "",
) -> np.ndarray:
    """Mean vector of each text's first ``max_sentences`` sentences (normalised); with a ``slant``
    model, followed by the article's slant features over up to ``SLANT_MAX_SENTENCES`` sentences."""
    slant_model = _slant_model(slant, encoder) if slant else None
    read = max(max_sentences, SLANT_MAX_SENTENCES) if slant_model else max_sentences
    spans = sentences or [split_sentences(t) for t in texts]
    flat = [t[s.start : s.end][:1000] for t, ss in zip(texts, spans, strict=True) for s in ss[:read]]
    vecs = get_encoder(encoder)(flat)
    out = np.zeros((len(texts), vecs.shape[1]), np.float32)
    per_article = []
    i = 0
    for r, ss in enumerate(spans):
        n = min(len(ss), read)
        mine = vecs[i : i + n]
        if n:
            out[r] = mine[:max_sentences].mean(0)
        per_article.append(mine[:SLANT_MAX_SENTENCES])
        i += n
    out = unit_rows(out)
    if slant_model is None:
        return out
    return np.hstack([out, slant_model.article_features(per_article)])


_DEFINITION_VECTORS: dict[tuple, np.ndarray] = {}


def _vectors_once(cfg: NarrativeConfig, texts: list[str]) -> np.ndarray:
    """Vectors of the taxonomy's definition documents, computed once per process and configuration
    (every fold of a cross-validation trains on the same ones)."""
    key = (cfg.encoder, cfg.doc_sentences, cfg.slant, tuple(texts))
    if key not in _DEFINITION_VECTORS:
        _DEFINITION_VECTORS[key] = cfg.vectors(texts)
    return _DEFINITION_VECTORS[key]


@dataclass(frozen=True)
class ClosenessTargets:
    """Sentence vectors of each label's definition and examples (a coarse label's own and its children's), sorted by
    the label column they belong to (coarse labels, then fine labels, as ``LabelSpace``)."""

    vectors: np.ndarray
    starts: np.ndarray  # where each column's rows begin
    columns: np.ndarray  # the column of each run of rows
    n_columns: int


_CLOSENESS_TARGETS: dict[tuple, ClosenessTargets] = {}


def closeness_targets(taxonomy: Taxonomy, encoder: str, vectors: np.ndarray | None = None) -> ClosenessTargets:
    """The taxonomy's texts to compare articles with, encoded once per process (or given: a model ships the ones
    it was trained with, so that loading it encodes none). Catch-alls ("X: Other") and labels without a definition
    or example have none (their closeness stays 0)."""
    space = LabelSpace(taxonomy)
    rows: list[tuple[int, str]] = []
    for j, label in enumerate([*space.coarse, *space.fine]):
        own = [taxonomy.get(label)] if not label.endswith(": Other") else []
        if not taxonomy.is_fine(label):
            own += [f for f in taxonomy.fine if taxonomy.parent(f.label) == label and not f.label.endswith(": Other")]
        rows += [(j, t) for lab in own if lab.official for t in (lab.definition, *lab.examples) if t.strip()]
    texts = tuple(t for _, t in rows)
    key = (encoder, texts)
    if key not in _CLOSENESS_TARGETS:
        if vectors is None or len(vectors) != len(texts):
            vectors = get_encoder(encoder)(list(texts)) if texts else np.zeros((0, 1), np.float32)
        vectors = unit_rows(vectors)
        columns = np.array([j for j, _ in rows], int)
        starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]]) if len(columns) else np.zeros(0, int)
        _CLOSENESS_TARGETS[key] = ClosenessTargets(
            vectors.astype(np.float32), starts, columns[starts], len(space.coarse) + len(space.fine)
        )
    return _CLOSENESS_TARGETS[key]


def label_closeness(texts: Sequence[str], targets: ClosenessTargets, encoder: str) -> np.ndarray:
    """Each article's closeness to each label column: the mean similarity of its ``CLOSENESS_TOP`` sentences
    closest to any of the label's texts, among its first ``CLOSENESS_SENTENCES`` that may be evidence. They are the
    ``reading_sentences`` whatever the parse (as trained), read as the evidence ranker reads them, so that where
    the two agree the encoder's cache makes their vectors once."""
    chunks = []
    for t in texts:
        spans, eligible = evidence_sentences(t, reading_sentences(t))
        chunks.append([t[spans[i].start : spans[i].end][:EVIDENCE_CHARS] for i in eligible[:CLOSENESS_SENTENCES]])
    vecs = get_encoder(encoder)([c for cs in chunks for c in cs])
    vecs = unit_rows(vecs)
    out = np.zeros((len(texts), targets.n_columns), np.float32)
    i = 0
    for r, cs in enumerate(chunks):
        mine, i = vecs[i : i + len(cs)], i + len(cs)
        if len(mine) and len(targets.columns):
            best = np.maximum.reduceat(mine @ targets.vectors.T, targets.starts, axis=1)  # sentences x columns
            out[r, targets.columns] = np.sort(best, axis=0)[-CLOSENESS_TOP:].mean(0)
    return out


def article_features(
    cfg: NarrativeConfig, texts: Sequence[str], taxonomy: Taxonomy | None = None, targets: np.ndarray | None = None
) -> np.ndarray:
    """What the document-vector heads read of each article: its document vector (and slant), then, when the
    configuration weighs it, its closeness to each label (``targets``: the label texts' vectors, if known)."""
    V = cfg.vectors(texts)
    if not cfg.closeness:
        return V
    known = closeness_targets(taxonomy or load_taxonomy(), cfg.encoder, targets)
    return np.hstack([V, label_closeness(texts, known, cfg.encoder)])


@lru_cache(maxsize=4)
def _slant_model(name: str, encoder: str) -> SlantModel:
    model = load_slant(name)
    if model.encoder != encoder:
        raise ValueError(f"slant model {name!r} reads {model.encoder} vectors, the configuration's encoder {encoder}")
    return model


# --- the model ----------------------------------------------------------------------------------


@dataclass
class Heads:
    """One-vs-rest linear heads: ``sigmoid(X @ W.T + b)`` for each label."""

    labels: list[str]
    W: np.ndarray
    b: np.ndarray

    def proba(self, X: Any) -> np.ndarray:
        return _sigmoid(np.asarray(X @ self._WT) + self.b) if self.labels else np.zeros((X.shape[0], 0))

    @cached_property
    def _WT(self) -> np.ndarray:
        # scipy copies a non-contiguous dense operand on every sparse product: transpose once
        return np.ascontiguousarray(self.W.T)


def _lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, iters: int = 300, memory: int = 10
) -> np.ndarray:
    """Minimise a smooth function with L-BFGS and backtracking (plain numpy: scipy's L-BFGS-B
    spends far more time in its own bookkeeping than in our objective for these sizes)."""
    f, g = fun(x)
    hist: list[tuple[np.ndarray, np.ndarray, float]] = []
    for it in range(iters):
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(hist):
            a = rho * (s @ q)
            alphas.append(a)
            q -= a * y
        if hist:
            s, y, _ = hist[-1]
            q *= (s @ y) / (y @ y)
        else:
            q /= max(1.0, float(np.abs(g).max()))
        for (s, y, rho), a in zip(hist, reversed(alphas), strict=True):
            q += s * (a - rho * (y @ q))
        d = -q
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction: restart from the gradient
            hist.clear()
            d, slope = -g, -float(g @ g)
        t = 1.0
        while True:
            x_new = x + t * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * t * slope or t < 1e-8:
                break
            t *= 0.5
        s, y = x_new - x, g_new - g
        if s @ y > 1e-10:
            hist.append((s, y, 1.0 / float(s @ y)))
            if len(hist) > memory:
                hist.pop(0)
        done = f - f_new < 1e-7 * max(abs(f_new), 1.0) and it > 5
        x, f, g = x_new, f_new, g_new
        if done:
            break
    return x


def _fit_heads(
    X: Any, Y: np.ndarray, labels: list[str], cfg: NarrativeConfig, rows: np.ndarray | None = None
) -> Heads:
    """L2 logistic regression for all heads at once, solved in the span of the training rows.

    With far fewer articles than features the weights are ``W = A @ X``, so L-BFGS runs over the
    small ``A`` (heads x articles) with the Gram matrix; the optimum is the same as in feature space.
    ``rows[j]`` selects the articles head ``j`` learns from; classes are balanced per head. A label that
    every one of its articles has gets a constant head (its smoothed rate); one that none has, no head.
    """
    Yf = Y.astype(np.float64)
    M = np.ones_like(Yf) if rows is None else rows.T.astype(np.float64)
    pos, neg = (Yf * M).sum(0), ((1 - Yf) * M).sum(0)
    keep = np.flatnonzero((pos > 0) & (neg > 0))
    always = np.flatnonzero((pos > 0) & (neg == 0))
    fitted = _fit_logistic(X, Yf[:, keep], M[:, keep], pos[keep], neg[keep], [labels[j] for j in keep], cfg)
    if not len(always):
        return fitted
    order = np.argsort(np.concatenate([keep, always]), kind="stable")
    W = np.vstack([fitted.W, np.zeros((len(always), X.shape[1]), np.float32)])[order]
    b = np.concatenate([fitted.b, np.log(pos[always]).astype(np.float32)])[order]  # logit of pos / (pos + 1)
    return Heads([labels[j] for j in np.concatenate([keep, always])[order]], W, b)


def _fit_logistic(
    X: Any, Yf: np.ndarray, M: np.ndarray, pos: np.ndarray, neg: np.ndarray, labels: list[str], cfg: NarrativeConfig
) -> Heads:
    """The logistic heads of ``_fit_heads`` for labels with positive and negative articles."""
    if not len(labels):
        return Heads([], np.zeros((0, X.shape[1]), np.float32), np.zeros(0, np.float32))
    if cfg.class_weight == "balanced":
        S = M * (Yf * (M.sum(0) / (2 * pos)) + (1 - Yf) * (M.sum(0) / (2 * neg)))
    else:
        S = M
    n, k = Yf.shape
    G = X @ X.T
    G = np.asarray(G.todense() if hasattr(G, "todense") else G, dtype=np.float64)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        A, b = theta[: k * n].reshape(k, n), theta[k * n :]
        Z = G @ A.T + b
        AG = A @ G
        loss = float((S * (np.logaddexp(0, Z) - Yf * Z)).sum() + 0.5 / cfg.C * (A * AG).sum())
        R = S * (_sigmoid(Z) - Yf)
        return loss, np.concatenate([(R.T @ G + AG / cfg.C).ravel(), R.sum(0)])

    x = _lbfgs(objective, np.zeros(k * n + k))
    A, b = x[: k * n].reshape(k, n), x[k * n :]
    W = np.asarray(X.T @ A.T).T if hasattr(X, "tocsr") else A @ X
    return Heads(labels, W.astype(np.float32), b.astype(np.float32))


class LabelSpace:
    """Column order of score matrices: coarse and fine labels without ``Other``, fine grouped by parent."""

    def __init__(self, tax: Taxonomy) -> None:
        self.tax = tax
        self.coarse = [c for c in tax.coarse_labels if c != tax.other]
        self.domains = sorted({tax.domain_of(c) for c in self.coarse})
        fine = [f for f in tax.fine_labels if f != tax.other]
        self.fine = sorted(fine, key=lambda f: self.coarse.index(tax.parent(f)))
        self.coarse_domain = np.array([self.domains.index(tax.domain_of(c)) for c in self.coarse])
        self.parent = np.array([self.coarse.index(tax.parent(f)) for f in self.fine])
        self.group_starts = np.array([int(np.argmax(self.parent == j)) for j in range(len(self.coarse))])
        self.other_child = np.array([self.fine.index(tax.other_of(c)) for c in self.coarse])

    def onehot(self, rows: Sequence[Iterable[str]], level: str) -> np.ndarray:
        """Gold matrix with ``Other`` as the last column."""
        labels = self.coarse if level == "coarse" else self.fine
        index = {lab: i for i, lab in enumerate(labels)}
        out = np.zeros((len(rows), len(labels) + 1), dtype=bool)
        for r, labs in enumerate(rows):
            for lab in labs:
                out[r, index.get(lab, len(labels))] = True
        return out


@dataclass
class ScoreMatrix:
    """Probabilities of n articles; -1 marks a label without a trained head."""

    gate: np.ndarray  # (n,)
    domain: np.ndarray  # (n, domains)
    coarse: np.ndarray  # (n, coarse)
    fine: np.ndarray  # (n, fine)

    def take(self, idx: np.ndarray) -> ScoreMatrix:
        return ScoreMatrix(self.gate[idx], self.domain[idx], self.coarse[idx], self.fine[idx])

    @staticmethod
    def concat(parts: Sequence[tuple[np.ndarray, ScoreMatrix]], n: int) -> ScoreMatrix:
        first = parts[0][1]
        out = ScoreMatrix(
            np.zeros(n),
            np.zeros((n, first.domain.shape[1])),
            np.zeros((n, first.coarse.shape[1])),
            np.zeros((n, first.fine.shape[1])),
        )
        for idx, sm in parts:
            out.gate[idx], out.domain[idx], out.coarse[idx], out.fine[idx] = (
                sm.gate,
                sm.domain,
                sm.coarse,
                sm.fine,
            )
        return out


def decide(
    S: ScoreMatrix, th: Thresholds, space: LabelSpace, cfg: NarrativeConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Scores -> boolean label matrices (coarse, fine; ``Other`` last): gate, topic, best + threshold."""
    c = S.coarse.copy()
    if cfg.topic and S.domain.shape[1]:
        dom = S.domain.argmax(1)
        c[space.coarse_domain[None, :] != dom[:, None]] = -1.0
    best = c.max(1, keepdims=True)
    ch = (c >= 0) & ((c == best) | ((c >= th.coarse) & (c >= th.relative * best)))
    other = best[:, 0] < 0
    if cfg.gate:
        other |= S.gate < th.gate
    allowed = ch[:, space.parent]
    f = np.where(allowed, S.fine, -1.0)
    top = np.maximum.reduceat(f, space.group_starts, axis=1)  # best fine score inside each coarse label
    top_f = top[:, space.parent]
    chf = (f >= 0) & ((f == top_f) | ((f >= th.fine) & (f >= th.relative * top_f)))
    orphan = ch & (top < 0)  # a chosen coarse label with no fine head: its catch-all
    chf[:, space.other_child] |= orphan
    if not cfg.hierarchy:  # fine labels above threshold may add their parent
        fd = S.fine.copy()
        if cfg.topic and S.domain.shape[1]:
            fd[space.coarse_domain[space.parent][None, :] != dom[:, None]] = -1.0
        extra = fd >= max(th.fine, 0.0) + 1e-12
        chf |= extra
        np.logical_or.at(ch.T, space.parent, extra.T)
    ch[other], chf[other] = False, False
    oc = np.concatenate([ch, other[:, None]], 1)
    of = np.concatenate([chf, other[:, None]], 1)
    return oc, of


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _platt(features: np.ndarray, gold: np.ndarray) -> tuple[float, float, float]:
    """``(a, c, b)`` of ``sigmoid(a * x + c * x_rel + b)`` fitted to ``gold`` over rows ``(x, x_rel)``
    (identity when one class is missing)."""
    if len(np.unique(gold)) < 2:
        return (1.0, 0.0, 0.0)
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=100.0).fit(features, gold)
    a, c = (float(v) for v in lr.coef_[0])
    return (round(a, 6), round(c, 6), round(float(lr.intercept_[0]), 6))


def _in_domain(S: ScoreMatrix, space: LabelSpace, cfg: NarrativeConfig) -> np.ndarray:
    """(n, coarse) mask of the coarse labels each article may get: those with a head, of its predicted domain."""
    mask = S.coarse >= 0
    if cfg.topic and S.domain.shape[1]:
        mask &= space.coarse_domain[None, :] == S.domain.argmax(1)[:, None]
    return mask


def _calibration_features(S: ScoreMatrix, space: LabelSpace, cfg: NarrativeConfig) -> dict[str, Any]:
    """Per level, (n, labels, 2) features ``(logit, logit - best logit among the article's allowed labels)``
    and the (n, labels) mask of allowed labels (fine: the best is taken within the parent)."""
    mc = _in_domain(S, space, cfg)
    xc = _logit(S.coarse)
    best_c = np.where(mc, xc, -np.inf).max(1, keepdims=True, initial=-np.inf)
    mf = S.fine >= 0
    xf = _logit(S.fine)
    best_f = np.maximum.reduceat(np.where(mf, xf, -np.inf), space.group_starts, axis=1)[:, space.parent]
    xg = _logit(S.gate)[:, None]

    def pair(x: np.ndarray, best: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.stack([x, np.where(mask, x - best, 0.0)], -1)

    return {
        "gate": (np.stack([xg, np.zeros_like(xg)], -1), np.ones_like(xg, bool)),
        "coarse": (pair(xc, best_c, mc), mc),
        "fine": (pair(xf, best_f, mf), mf),
    }


def fit_calibration(
    S: ScoreMatrix, gold_c: np.ndarray, gold_f: np.ndarray, space: LabelSpace, cfg: NarrativeConfig
) -> Calibration:
    """Calibrate out-of-fold scores: the gate on all articles; coarse heads on the narrative articles, over
    the labels each may get; fine heads on the narrative articles whose gold labels include the parent."""
    F = _calibration_features(S, space, cfg)
    narrative = ~gold_c[:, -1]
    mc = F["coarse"][1] & narrative[:, None]
    mf = F["fine"][1] & narrative[:, None]
    if cfg.hierarchy:
        mf &= gold_c[:, space.parent]
    return Calibration(
        gate=_platt(F["gate"][0][:, 0], narrative) if cfg.gate else (1.0, 0.0, 0.0),
        coarse=_platt(F["coarse"][0][mc], gold_c[:, :-1][mc]),
        fine=_platt(F["fine"][0][mf], gold_f[:, :-1][mf]),
    )


def probabilities(
    S: ScoreMatrix, cal: Calibration, space: LabelSpace, cfg: NarrativeConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibrated P(narrative), P(coarse label) and P(fine label) of each article (0 where not allowed)."""
    F = _calibration_features(S, space, cfg)

    def scale(level: str, params: tuple[float, float, float]) -> np.ndarray:
        X, mask = F[level]
        a, c, b = params
        return np.where(mask, _sigmoid(a * X[..., 0] + c * X[..., 1] + b), 0.0)

    p_narrative = scale("gate", cal.gate)[:, 0] if cfg.gate else np.ones(len(S.gate))
    qc, qf = scale("coarse", cal.coarse), scale("fine", cal.fine)
    if cfg.hierarchy:  # fine heads learnt inside their parent: P(fine) = P(parent) P(fine | parent)
        qf = qc[:, space.parent] * qf
    elif cfg.topic and S.domain.shape[1]:
        qf = np.where(F["coarse"][1][:, space.parent], qf, 0.0)
    return p_narrative, qc, qf


def _best_sets(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the top-k labels maximising the plug-in expected F1 ``2 sum(top k) / (sum(all) + k)``
    (labels taken as independent), and that expected F1."""
    if not Q.shape[1]:
        return np.zeros(Q.shape, bool), np.zeros(len(Q))
    order = np.argsort(-Q, 1)
    k = np.arange(1, Q.shape[1] + 1)[None, :]
    ef = 2 * np.cumsum(np.take_along_axis(Q, order, 1), 1) / (Q.sum(1, keepdims=True) + k)
    best = ef.argmax(1)
    chosen = np.zeros(Q.shape, bool)
    np.put_along_axis(chosen, order, k <= best[:, None] + 1, 1)
    return chosen & (Q > 0), ef[np.arange(len(Q)), best]  # a label that cannot apply is never chosen


def choose_expected_f1(
    p_narrative: np.ndarray, qc: np.ndarray, qf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities -> boolean label matrices (coarse, fine; ``Other`` last) maximising each article's
    expected F1-samples (mean of the coarse and fine levels): the best label set of each level, or ``Other``
    when P(Other) is at least P(narrative) times the expected F1 of those sets."""
    ch, ef_c = _best_sets(qc)
    chf, ef_f = _best_sets(qf)
    other = (1 - p_narrative) >= p_narrative * (ef_c + ef_f) / 2
    other |= qc.max(1, initial=0.0) <= 0  # no label allowed
    ch[other], chf[other] = False, False
    return np.concatenate([ch, other[:, None]], 1), np.concatenate([chf, other[:, None]], 1)


def reweighted(p_narrative: np.ndarray, trained: float, share: float) -> np.ndarray:
    """P(narrative), calibrated where ``trained`` of the articles carry a narrative, for a batch where ``share``
    of them do (Bayes' rule with the new prior)."""
    if not 0 < share < 1:
        raise ValueError(f"the share of narrative articles must lie strictly between 0 and 1, not {share}")
    a = share / trained * p_narrative
    return a / (a + (1 - share) / (1 - trained) * (1 - p_narrative))


def estimate_narrative_share(
    p_narrative: np.ndarray, trained: float, prior_articles: float = SHARE_PRIOR_ARTICLES
) -> float:
    """The share of narrative articles in a batch, from its calibrated P(narrative): EM (Saerens et al., 2002),
    counting ``prior_articles`` more articles at the training share, so a small batch stays near it."""
    share, n = trained, len(p_narrative)
    for _ in range(1000):
        new = (reweighted(p_narrative, trained, share).sum() + prior_articles * trained) / (n + prior_articles)
        new = float(np.clip(new, 0.001, 0.999))
        if abs(new - share) < 1e-7:
            return new
        share = new
    return share


def _f1_rows(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-article F1 of boolean label matrices."""
    denom = gold.sum(1) + pred.sum(1)
    return np.where(denom > 0, 2 * (gold & pred).sum(1) / np.maximum(denom, 1), 0.0)


def tune_thresholds(
    S: ScoreMatrix, gold_c: np.ndarray, gold_f: np.ndarray, space: LabelSpace, cfg: NarrativeConfig
) -> Thresholds:
    """Global thresholds maximising mean(F1-samples coarse, fine) on out-of-fold scores (grid search)."""
    best, best_th = -1.0, Thresholds()
    grid = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01)
    # The gate only replaces a row's labels by "Other", so decide once without it and mix per gate value.
    ungated = replace(cfg, gate=False)
    other_row = (_f1_rows(gold_c, _other_only(gold_c)) + _f1_rows(gold_f, _other_only(gold_f))) / 2
    gates = np.arange(0.25, 0.8, 0.05) if cfg.gate else np.array([-1.0])
    for tc in grid:
        for tf in grid:
            for rel in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                pc, pf = decide(S, Thresholds(0.0, tc, tf, rel), space, ungated)
                row = (_f1_rows(gold_c, pc) + _f1_rows(gold_f, pf)) / 2
                for g in gates:
                    score = float(np.where(S.gate < g, other_row, row).mean())
                    if score > best + 1e-9:
                        best, best_th = (
                            score,
                            Thresholds(round(float(g), 2) if cfg.gate else 0.5, tc, tf, rel),
                        )
    return best_th


def _other_only(gold: np.ndarray) -> np.ndarray:
    out = np.zeros_like(gold)
    out[:, -1] = True
    return out


def kfold(n: int, k: int, seed: int) -> list[np.ndarray]:
    """Random k-fold split of ``range(n)`` (fixed seed)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[i::k]) for i in range(k)]


@dataclass
class ExtraArticles:
    """Labelled articles in other languages: only the document-vector heads learn from them
    (they need a multilingual encoder; the TF-IDF heads and the gates stay with the main language)."""

    vectors: np.ndarray
    coarse: list[list[str]]
    fine: list[list[str]]


@dataclass
class Prediction:
    """Labels of one article with their scores (``Other`` alone when nothing applies)."""

    coarse: list[str]
    fine: list[str]
    scores: dict[str, float] = field(default_factory=dict)


class NarrativeModel:
    """Estimator with ``fit``, ``predict``, ``save`` and ``load``."""

    def __init__(self, taxonomy: Taxonomy | None = None, config: NarrativeConfig | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.config = config or NarrativeConfig()
        if self.config.decoder not in DECODERS:
            raise ValueError(f"unknown narratives decoder {self.config.decoder!r}: choose one of {', '.join(DECODERS)}")
        self.space = LabelSpace(self.taxonomy)
        self.thresholds = Thresholds()
        self.calibration = Calibration()
        self.vectorizer: Any = None
        self.heads: dict[str, Heads] = {}
        self.emb_heads: dict[str, Heads] = {}
        self.slant_norm: tuple[np.ndarray, np.ndarray] | None = None  # mean, sd of the training articles' slant
        self.closeness_norm: tuple[np.ndarray, np.ndarray] | None = None  # the same of their label closeness
        self._closeness_vectors: np.ndarray | None = None  # of the label texts (``closeness_targets``)
        self.meta: dict[str, Any] = {}
        self._definition_vectors: dict[tuple[str, str], np.ndarray] = {}  # (encoder, label) -> vector

    # -- training --------------------------------------------------------------------------------

    def pseudo_documents(self) -> tuple[list[str], list[list[str]], list[list[str]]]:
        """One short training document per fine label: its name, definition and examples."""
        texts, coarse, fine = [], [], []
        for f in self.taxonomy.fine:
            if not f.definition and not f.examples:
                continue
            name = f.label.split(": ")[-1]
            texts.append(" ".join([name + ".", f.definition, *f.examples]))
            coarse.append([self.taxonomy.parent(f.label)])
            fine.append([f.label])
        return texts, coarse, fine

    def fit(
        self,
        texts: Sequence[str],
        coarse: Sequence[list[str]],
        fine: Sequence[list[str]],
        doc_vectors: np.ndarray | None = None,
        tune: bool = True,
        extra: ExtraArticles | None = None,
    ) -> NarrativeModel:
        """Train on articles and their gold labels; ``tune`` fits the decoder (calibration or thresholds) by inner CV.
        ``extra`` articles (other languages) join the document-vector heads' training rows."""
        if not texts:
            raise ValueError("empty training set: no labelled documents")
        from threadpoolctl import threadpool_limits

        # Small matrices: one BLAS thread is much faster than several fighting over shared cores.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(texts, coarse, fine, doc_vectors, tune, extra)

    def _fit(
        self,
        texts: Sequence[str],
        coarse: Sequence[list[str]],
        fine: Sequence[list[str]],
        doc_vectors: np.ndarray | None,
        tune: bool,
        extra: ExtraArticles | None,
    ) -> NarrativeModel:
        cfg, n = self.config, len(texts)
        if extra is not None and not cfg.embeddings:
            raise ValueError("articles in other languages are only used by the document-vector heads (embeddings)")
        if cfg.closeness and (not cfg.embeddings or extra is not None):
            raise ValueError("label closeness travels with the document vectors (embeddings), in one language")
        all_texts, all_c, all_f = list(texts), [list(c) for c in coarse], [list(f) for f in fine]
        if cfg.definitions:
            pt, pc, pf = self.pseudo_documents()
            all_texts, all_c, all_f = all_texts + pt, all_c + pc, all_f + pf
        self.vectorizer = _vectorizer(cfg)
        X = self.vectorizer.fit_transform(all_texts).tocsr()
        V = None
        if cfg.embeddings:
            real = doc_vectors if doc_vectors is not None else self.article_features(texts)
            vectors, closeness = self._split_closeness(real)
            if closeness is not None:
                self.closeness_norm = (closeness.mean(0), np.clip(closeness.std(0), 1e-6, None))
            V = real
            if len(all_texts) > n:  # the definition documents: no closeness of their own (it moves no head)
                pseudo = _vectors_once(cfg, all_texts[n:])
                if closeness is not None:
                    pseudo = np.hstack([pseudo, np.zeros((len(pseudo), closeness.shape[1]), pseudo.dtype)])
                V = np.vstack([real, pseudo])
            if cfg.slant:
                k = len(SLANT_FEATURES)
                self.slant_norm = (vectors[:, -k:].mean(0), np.clip(vectors[:, -k:].std(0), 1e-6, None))
        Yc, Yf = self.space.onehot(all_c, "coarse"), self.space.onehot(all_f, "fine")
        real_rows = np.arange(len(all_texts)) < n
        self.heads, self.emb_heads = self._fit_heads(X, V, Yc, Yf, real_rows, extra)
        if tune:
            parts = []
            for test in kfold(n, cfg.inner_folds, cfg.seed + 1):
                train = np.ones(len(all_texts), bool)
                train[test] = False
                heads, emb = self._fit_heads(
                    X[train], None if V is None else V[train], Yc[train], Yf[train], real_rows[train], extra
                )
                parts.append((test, self._score(X[test], None if V is None else V[test], heads, emb)))
            oof = ScoreMatrix.concat(parts, n)
            if cfg.decoder == "thresholds":
                self.thresholds = tune_thresholds(oof, Yc[:n], Yf[:n], self.space, cfg)
            else:
                self.calibration = fit_calibration(oof, Yc[:n], Yf[:n], self.space, cfg)
        narrative = float(np.mean([c != [self.taxonomy.other] for c in coarse]))
        self.meta.update(trained_on=n, narrative_share=round(narrative, 4), date=time.strftime("%Y-%m-%d"))
        if extra is not None:
            self.meta.update(other_language_articles=len(extra.coarse))
        return self

    @property
    def decoder_parameters(self) -> Calibration | Thresholds:
        """What the inner CV fitted for the configured decoder."""
        return self.calibration if self.config.decoder == "expected_f1" else self.thresholds

    def article_features(self, texts: Sequence[str]) -> np.ndarray:
        """What the document-vector heads (and the label closeness) read of each article (``article_features``)."""
        vectors = self._label_text_vectors() if self.config.closeness else None
        return article_features(self.config, texts, self.taxonomy, vectors)

    def _label_text_vectors(self) -> np.ndarray:
        """The vectors of the label texts the closeness compares articles with: those the model was saved with,
        else encoded once."""
        if self._closeness_vectors is None:
            self._closeness_vectors = closeness_targets(self.taxonomy, self.config.encoder).vectors
        return self._closeness_vectors

    def _split_closeness(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Document features -> (the document vectors and slant, the label closeness if the model reads it)."""
        if not self.config.closeness:
            return V, None
        k = len(self.space.coarse) + len(self.space.fine)
        return V[:, :-k], V[:, -k:]

    def _views(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Document features -> (the document vectors, the gate's features: vectors and scaled slant)."""
        if not self.config.slant:
            return V, V
        if self.slant_norm is None:
            raise ValueError("this model reads the articles' slant but was not trained with it")
        k, (mu, sd) = len(SLANT_FEATURES), self.slant_norm
        slant = self.config.slant_weight * (V[:, -k:] - mu) / sd
        return V[:, :-k], np.hstack([V[:, :-k], slant]).astype(np.float32)

    def _fit_heads(
        self,
        X: Any,
        V: np.ndarray | None,
        Yc: np.ndarray,
        Yf: np.ndarray,
        real: np.ndarray,
        extra: ExtraArticles | None = None,
    ) -> tuple[dict[str, Heads], dict[str, Heads]]:
        cfg, sp = self.config, self.space

        def fit_all(
            F: Any, Yc: np.ndarray, Yf: np.ndarray, real: np.ndarray, cfg: NarrativeConfig, G: Any = None
        ) -> dict[str, Heads]:
            """Heads over features ``F``; the gate's over ``G`` (default ``F``)."""
            narrative = ~Yc[:, -1]
            dom_y = np.stack([Yc[:, :-1][:, sp.coarse_domain == d].any(1) for d in range(len(sp.domains))], 1)
            # Coarse heads learn from the articles of their domain when the topic gate picks the domain.
            rows_c = dom_y[:, sp.coarse_domain].T if cfg.topic else None
            # Fine heads learn from the articles of their parent when the hierarchy picks the parent.
            rows_f = Yc[:, sp.parent].T if cfg.hierarchy else None
            return {
                "gate": _fit_heads((F if G is None else G)[real], narrative[real, None], ["narrative"], cfg),
                "domain": _fit_heads(F[narrative], dom_y[narrative], sp.domains, cfg),
                "coarse": _fit_heads(F, Yc[:, :-1], sp.coarse, cfg, rows_c),
                "fine": _fit_heads(F, Yf[:, :-1], sp.fine, cfg, rows_f),
            }

        heads = fit_all(X, Yc, Yf, real, cfg)
        if V is None:
            return heads, {}
        if extra is not None and len(extra.coarse):
            # Other-language rows count as "not real": the gate learns from the main language only
            # (the other languages' sets hold few "Other" articles, which skews it).
            V = np.vstack([V, extra.vectors])
            Yc = np.vstack([Yc, sp.onehot(extra.coarse, "coarse")])
            Yf = np.vstack([Yf, sp.onehot(extra.fine, "fine")])
            real = np.concatenate([real, np.zeros(len(extra.coarse), bool)])
        vectors, gate_features = self._views(self._split_closeness(V)[0])
        return heads, fit_all(vectors, Yc, Yf, real, replace(cfg, C=cfg.embed_C or cfg.C), gate_features)

    # -- inference -------------------------------------------------------------------------------

    def _score(
        self, X: Any, V: np.ndarray | None, heads: dict[str, Heads], emb: dict[str, Heads]
    ) -> ScoreMatrix:
        sp, n = self.space, X.shape[0]
        full = {"gate": ["narrative"], "domain": sp.domains, "coarse": sp.coarse, "fine": sp.fine}
        mats: dict[str, np.ndarray] = {}
        closeness = None
        if emb and V is not None:
            V, closeness = self._split_closeness(V)
        vectors, gate_features = self._views(V) if emb and V is not None else (V, V)
        for key, labels in full.items():
            out = np.full((n, len(labels)), -1.0)
            index = {lab: i for i, lab in enumerate(labels)}
            h = heads[key]
            p = h.proba(X)
            if emb and V is not None:
                F = gate_features if key == "gate" else vectors
                ep = dict(zip(emb[key].labels, emb[key].proba(F).T, strict=True))
                w = self.config.embed_weight
                p = (
                    np.stack(
                        [
                            (1 - w) * p[:, j] + w * ep[lab] if lab in ep else p[:, j]
                            for j, lab in enumerate(h.labels)
                        ],
                        1,
                    )
                    if h.labels
                    else p
                )
            for j, lab in enumerate(h.labels):
                out[:, index[lab]] = p[:, j]
            mats[key] = out
        if closeness is not None:
            self._lean_on_closeness(mats, closeness)
        gate = mats["gate"][:, 0]
        return ScoreMatrix(np.where(gate < 0, 1.0, gate), mats["domain"], mats["coarse"], mats["fine"])

    def _lean_on_closeness(self, mats: dict[str, np.ndarray], closeness: np.ndarray) -> None:
        """Move each coarse and fine label's probability, in logit space, by its weight times the article's
        standardised closeness to the label."""
        if self.closeness_norm is None:
            raise ValueError("this model reads the articles' closeness to the labels but was not trained with it")
        mu, sd = self.closeness_norm
        z = (closeness - mu) / sd
        nc = len(self.space.coarse)
        for key, cols, weight in (
            ("coarse", slice(0, nc), self.config.closeness_coarse),
            ("fine", slice(nc, None), self.config.closeness_fine),
        ):
            p = mats[key]
            moved = _sigmoid(_logit(p) + weight * z[:, cols])
            mats[key] = np.where(p >= 0, moved, p)  # -1: a label without a head

    def scores(self, texts: Sequence[str], doc_vectors: np.ndarray | None = None) -> ScoreMatrix:
        X = self.vectorizer.transform(texts)
        if self.emb_heads and doc_vectors is None:
            doc_vectors = self.article_features(texts)
        return self._score(X, doc_vectors, self.heads, self.emb_heads)

    def predict(
        self,
        texts: Sequence[str],
        doc_vectors: np.ndarray | None = None,
        narrative_share: float | Literal["auto"] | None = None,
    ) -> list[Prediction]:
        """Labels of each article. ``narrative_share``: the share of the batch's articles that carry a narrative,
        if it differs from the training articles' (``None``); ``"auto"`` estimates it from the batch
        (``estimate_share``)."""
        S = self.scores(texts, doc_vectors)
        return self.decisions(S, self.resolve_share(S, narrative_share))

    def resolve_share(self, S: ScoreMatrix, narrative_share: float | Literal["auto"] | None) -> float | None:
        """The share of narrative articles to decode a batch with: ``"auto"`` is estimated from it."""
        if isinstance(narrative_share, str):
            if narrative_share != "auto":
                raise ValueError(f"unknown share of narrative articles {narrative_share!r}: give 'auto' or a number")
            return self.estimate_share(S)
        return narrative_share

    @property
    def trained_share(self) -> float:
        """The share of the training articles that carry a narrative: the prior P(narrative) is calibrated to."""
        if "narrative_share" not in self.meta:
            raise ValueError(
                "this narratives model does not record the share of narrative articles it was trained on (it was "
                "saved before 2026-11-25): retrain it (narrascope train narratives), or predict without a share"
            )
        return float(self.meta["narrative_share"])

    def estimate_share(self, S: ScoreMatrix) -> float:
        """The share of narrative articles in a batch of scored articles (``estimate_narrative_share``)."""
        if self.config.decoder != "expected_f1" or not self.config.gate:
            raise ValueError("a batch's share of narrative articles needs the gate and the expected_f1 decoder")
        p_narrative = probabilities(S, self.calibration, self.space, self.config)[0]
        return estimate_narrative_share(p_narrative, self.trained_share)

    def decisions(self, S: ScoreMatrix, narrative_share: float | None = None) -> list[Prediction]:
        """Labels and their scores: calibrated probabilities with the expected-F1 decoder (a fine label's is
        P(parent) x P(label | parent)), the heads' probabilities with thresholds. A ``narrative_share`` other
        than the training articles' re-weights P(narrative) (expected-F1 decoder only)."""
        sp, other, cfg = self.space, self.taxonomy.other, self.config
        if narrative_share is not None and cfg.decoder != "expected_f1":
            raise ValueError("a share of narrative articles needs calibrated probabilities: the expected_f1 decoder")
        if cfg.decoder == "expected_f1":
            p_narrative, qc, qf = probabilities(S, self.calibration, sp, cfg)
            if narrative_share is not None and cfg.gate:
                p_narrative = reweighted(p_narrative, self.trained_share, narrative_share)
            pc, pf = choose_expected_f1(p_narrative, qc, qf)
        else:
            pc, pf = decide(S, self.thresholds, sp, cfg)
            p_narrative, qc, qf = S.gate, S.coarse, S.fine
            if cfg.hierarchy:
                qf = np.where(qf >= 0, qf * np.clip(qc[:, sp.parent], 0.0, None), qf)
        out = []
        for r in range(len(S.gate)):
            if pc[r, -1]:
                out.append(Prediction([other], [other], {other: round(1.0 - float(p_narrative[r]), 4)}))
                continue
            cs = [sp.coarse[j] for j in np.flatnonzero(pc[r, :-1])]
            fs = [sp.fine[j] for j in np.flatnonzero(pf[r, :-1])]
            scores = {sp.coarse[j]: float(qc[r, j]) for j in np.flatnonzero(pc[r, :-1])}
            for j in np.flatnonzero(pf[r, :-1]):
                # a catch-all chosen for a coarse label without fine heads takes its parent's score
                scores[sp.fine[j]] = float(qf[r, j]) if qf[r, j] >= 0 else float(qc[r, sp.parent[j]])
            cs.sort(key=lambda c: -scores[c])
            fs.sort(key=lambda f: -scores[f])
            out.append(Prediction(cs, fs, {k: round(v, 4) for k, v in scores.items()}))
        return out

    # -- persistence -----------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write ``model.npz`` (float16 weights) and ``model.json`` (vocabulary, labels, settings)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"idf": self.vectorizer.idf_.astype(np.float32)}
        labels: dict[str, list[str]] = {}
        for prefix, heads in (("tfidf", self.heads), ("emb", self.emb_heads)):
            for k, h in heads.items():
                arrays[f"{prefix}_{k}_W"] = h.W.astype(np.float16)
                arrays[f"{prefix}_{k}_b"] = h.b.astype(np.float32)
                labels[f"{prefix}_{k}"] = h.labels
        if self.slant_norm is not None:
            arrays["slant_mean"], arrays["slant_sd"] = self.slant_norm
        if self.closeness_norm is not None:
            arrays["closeness_mean"], arrays["closeness_sd"] = self.closeness_norm
            arrays["closeness_targets"] = self._label_text_vectors().astype(np.float16)
        np.savez_compressed(folder / "model.npz", **arrays)
        vocab = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get)
        meta = {
            "format": "narrascope-narratives/1",
            "version": VERSION,
            "taxonomy": self.taxonomy.name,
            "config": asdict(self.config),
            "thresholds": asdict(self.thresholds),
            "calibration": asdict(self.calibration),
            "labels": labels,
            "meta": self.meta,
            "vocabulary": vocab,
        }
        (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path = MODEL_DIR, taxonomy: Taxonomy | None = None) -> NarrativeModel:
        folder = require_files(
            folder, ("model.json", "model.npz"), "narratives model", "narrascope train narratives --data DIR"
        )
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        arrays = np.load(folder / "model.npz")
        tax = taxonomy or load_taxonomy(meta["taxonomy"])
        config = dict(meta["config"])
        if "calibration" not in meta:  # saved before the expected-F1 decoder: thresholds only
            config["decoder"] = "thresholds"
        m = cls(tax, NarrativeConfig(**config))
        m.thresholds = Thresholds(**meta["thresholds"])
        if "calibration" in meta:
            m.calibration = Calibration(**{k: tuple(v) for k, v in meta["calibration"].items()})
        m.meta = meta.get("meta", {})
        from ..textvec import TfidfTransform  # inference without importing scikit-learn

        vocabulary = {w: i for i, w in enumerate(meta["vocabulary"])}
        m.vectorizer = TfidfTransform(vocabulary, arrays["idf"], ngram_max=m.config.ngram_max)
        for key, labs in meta["labels"].items():
            prefix, head = key.split("_", 1)
            target = m.heads if prefix == "tfidf" else m.emb_heads
            target[head] = Heads(labs, arrays[f"{key}_W"].astype(np.float32), arrays[f"{key}_b"])
        if "slant_mean" in arrays:
            m.slant_norm = (arrays["slant_mean"], arrays["slant_sd"])
        if "closeness_mean" in arrays:
            m.closeness_norm = (arrays["closeness_mean"], arrays["closeness_sd"])
            if "closeness_targets" in arrays:  # saved since 2026-11-25; else encoded at first use
                m._closeness_vectors = arrays["closeness_targets"].astype(np.float32)
        return m

    # -- evidence and explanation ----------------------------------------------------------------

    def _row(self, label: str) -> np.ndarray | None:
        """The TF-IDF weight vector that speaks for a label (its coarse head for catch-alls)."""
        for key in ("fine", "coarse"):
            h = self.heads.get(key)
            if h is not None and label in h.labels and not (key == "fine" and label.endswith(": Other")):
                return h.W[h.labels.index(label)]
        if label in self.space.fine:
            return self._row(self.taxonomy.parent(label)) if label != self.taxonomy.parent(label) else None
        return None

    def evidence(
        self, label: str, text: str, sentences: Sequence[Sentence], k: int = 3
    ) -> list[dict[str, Any]]:
        """The ``k`` sentences that carry ``label`` (see :meth:`evidence_many`)."""
        return self.evidence_many([label], text, sentences, k)[label]

    def evidence_many(
        self, labels: Sequence[str], text: str, sentences: Sequence[Sentence], k: int = 3
    ) -> dict[str, list[dict[str, Any]]]:
        """For each label, the ``k`` sentences that carry it. With an ``evidence_encoder``, every sentence (at most
        ``EVIDENCE_POOL``) is ranked by how close it comes in meaning to the label's name and definition, plus a
        little of how much its own words push the label's TF-IDF score (``score``: the cosine similarity); the
        article's sentences are encoded once for all labels. Without one, the sentences whose words push the
        label's TF-IDF score most, positive contributions only (``score``: share of the best)."""
        out: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
        sentences, eligible = evidence_sentences(text, sentences)
        weights = {label: w for label in labels if (w := self._row(label)) is not None}
        if not eligible or not weights:
            return out
        X = self.vectorizer.transform([text[sentences[i].start : sentences[i].end] for i in eligible])
        pushes = {label: np.asarray(X @ w).ravel() for label, w in weights.items()}
        encoder = self.config.evidence_encoder
        if not encoder:
            for label, push in pushes.items():
                order = [int(j) for j in np.argsort(-push)[:k] if push[j] > 0]
                out[label] = [
                    {
                        "start": sentences[eligible[j]].start,
                        "end": sentences[eligible[j]].end,
                        "score": round(float(push[j]) / float(push[order[0]]), 3),
                    }
                    for j in order
                ]
            return out
        pool = np.arange(len(eligible))
        if len(pool) > EVIDENCE_POOL:
            pool = np.sort(np.argsort(-np.max(list(pushes.values()), axis=0))[:EVIDENCE_POOL])
        chosen = [sentences[eligible[j]] for j in pool]
        vectors = get_encoder(encoder)([text[s.start : s.end][:EVIDENCE_CHARS] for s in chosen])
        for label, push in pushes.items():
            closeness = vectors @ self._definition_vector(label, encoder)
            rank = _standardised(closeness) + EVIDENCE_TFIDF_WEIGHT * _standardised(push[pool])
            out[label] = [
                {"start": chosen[j].start, "end": chosen[j].end, "score": round(float(closeness[j]), 3)}
                for j in np.argsort(-rank, kind="stable")[:k]
            ]
        return out

    def _definition_vector(self, label: str, encoder: str) -> np.ndarray:
        """The sentence vector of a label's name and definition (its coarse parent's for a catch-all)."""
        key = (encoder, label)
        if key not in self._definition_vectors:
            described = f"{label.split(': ', 1)[-1]}. {self._definition(label)}"
            self._definition_vectors[key] = get_encoder(encoder)([described])[0]
        return self._definition_vectors[key]

    def _definition(self, label: str) -> str:
        """A label's definition, or its coarse parent's when it has none (the catch-alls)."""
        tax = self.taxonomy
        coarse = tax.parent(label) if tax.is_fine(label) else label
        return tax.get(label).definition or tax.get(coarse).definition

    def quote(
        self, label: str, text: str, start: int, end: int, max_words: int = 20, doc: Any = None
    ) -> tuple[int, int]:
        """The clause (or run of clauses, at most ``max_words`` words) of a sentence that weighs most
        for the label, among those that make a claim when any does (``doc``: the text's spaCy parse, if it has one);
        the whole sentence when that clause is cut mid-clause and the sentence is at most ``LONG_SENTENCE_SLACK``
        words longer; a fixed word window when no clause fits."""
        words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
        if len(words) <= max_words:
            return _tidy_quote(text, (words[0][0], words[-1][1])) if words else (start, end)
        tokens, offset = _sentence_parse(text, start, end, doc)
        # A conjunction or relative word used as a determiner or a preposition opens a phrase, not a clause ("from that
        # portion", "since the 18th century", "because of").
        in_phrase = {offset + t.idx for t in tokens if t.dep_ in ("det", "prep") and _CONNECTIVE_WORD.fullmatch(t.text)}
        spans, clause_ends, quoted = _quotable_clauses(text, start, end, words, max_words, in_phrase)
        w = self._row(label)
        if w is None:
            return _tidy_quote(text, spans[0])
        gain = np.asarray(self.vectorizer.transform([text[a:b] for a, b in spans]) @ w).ravel()
        score = gain * _reading_weights(text, spans, clause_ends, quoted)
        claims = _makes_claim(tokens, offset, spans)
        if not claims.any():
            # No clause that fits makes a claim, but a longer one may ("It would be useful to think about the reasons
            # for ... [30 words]," said Andrey Ledenev, minister-counsellor ...): its first words can be quoted.
            starts = {a for a, _ in spans}
            opens = [i for i, (a, _) in enumerate(words) if i == 0 or a in starts]
            windows = [(words[i][0], words[min(i + max_words, len(words)) - 1][1]) for i in opens]
            if (window_claims := _makes_claim(tokens, offset, windows)).any():
                spans = [span for span, claim in zip(windows, window_claims, strict=True) if claim]
                score = np.asarray(self.vectorizer.transform([text[a:b] for a, b in spans]) @ w).ravel()
                claims = np.ones(len(spans), dtype=bool)
        if claims.any():  # a clause of weight for the label can still be a bare noun phrase or an attribution
            score[~claims] = -np.inf
        a, b = spans[int(np.argmax(score))]
        if b not in clause_ends and len(words) <= max_words + LONG_SENTENCE_SLACK:
            a, b = words[0][0], words[-1][1]
        return _tidy_quote(text, (a, _without_dangling_end(tokens, offset, a, b)))

    def explain(
        self,
        label: str,
        text: str,
        sentences: Sequence[Sentence],
        evidence: list[dict[str, Any]] | None = None,
        doc: Any = None,
    ) -> tuple[str, list[dict[str, int]]]:
        """A short explanation (at most 80 words) of why ``label`` applies, quoting the article (``doc``: its spaCy
        parse, when it has one)."""
        tax = self.taxonomy
        if label == tax.other:
            return "The text carries none of the narratives of the taxonomy.", []
        coarse = tax.parent(label) if tax.is_fine(label) else label
        name = label.split(": ")[-1]
        head = (
            f'The text pushes the narrative "{coarse.split(": ", 1)[-1]}"'
            + (f' ("{name}")' if name not in ("Other", coarse.split(": ")[-1]) else "")
            + "."
        )
        definition = self._definition(label).rstrip(".")
        if definition.lower().startswith("statements "):
            definition = "It makes statements " + definition[len("statements ") :]
        ev = evidence if evidence is not None else self.evidence(label, text, sentences)
        spans = [self.quote(label, text, e["start"], e["end"], doc=doc) for e in ev[:2]]
        # " ".join: a sentence may run over a line break
        quotes = [" ".join(text[a:b].split()).replace('"', "'") for a, b in spans]
        said = (" It says: " + " and ".join(f'"{q}"' for q in quotes) + ".") if quotes else ""
        words = head.split() + (definition + ".").split()
        budget = MAX_EXPLANATION_WORDS - len(said.split())
        if len(words) > budget:  # keep the quotes; shorten the definition
            words = words[: max(budget - 1, 0)] + ["..."]
        return " ".join(words) + said, [{"start": a, "end": b} for a, b in spans]


# --- the analyser -------------------------------------------------------------------------------


def default_model_path(name: str | None = None) -> Path:
    """The model folder of the ``narratives_model`` setting: "minilm" (the default; "tfidf", its name before
    it read MiniLM, still works), "mpnet" or a path."""
    from ..settings import get_settings

    name = name or get_settings().narratives_model
    return {"minilm": MODEL_DIR, "tfidf": MODEL_DIR, "mpnet": MPNET_MODEL_DIR}.get(name, Path(name))


def load_model(folder: str | None = None) -> NarrativeModel:
    """The model of the ``narratives_model`` setting (or the one in ``folder``), loaded once per process."""
    return _load(str(folder or default_model_path()))


@lru_cache(maxsize=4)
def _load(folder: str) -> NarrativeModel:
    return NarrativeModel.load(folder)


@analysers.register("narratives")
class NarrativeAnalyser:
    """Adds ``narratives`` findings (fine label, coarse parent, score, evidence) and one ``explanation``."""

    name = "narratives"
    version = VERSION
    requires: tuple[str, ...] = ()

    def __init__(self, model: NarrativeModel | str | Path | None = None) -> None:
        self._model = model if isinstance(model, NarrativeModel) else None
        self._path = None if model is None or isinstance(model, NarrativeModel) else str(model)

    @property
    def model(self) -> NarrativeModel:
        if self._model is None:
            self._model = load_model(self._path)
        return self._model

    # estimator API, delegated to the model
    def fit(
        self, texts: Sequence[str], coarse: Sequence[list[str]], fine: Sequence[list[str]]
    ) -> NarrativeAnalyser:
        self._model = NarrativeModel().fit(texts, coarse, fine)
        return self

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return self.model.predict(texts)

    def save(self, folder: str | Path) -> Path:
        return self.model.save(folder)

    @classmethod
    def load(cls, folder: str | Path = MODEL_DIR) -> NarrativeAnalyser:
        return cls(NarrativeModel.load(folder))

    def __call__(self, article: Article) -> Article:
        return next(iter(self.pipe([article])))

    def pipe(self, articles: Iterable[Article]) -> Iterable[Article]:
        arts = list(articles)
        if not arts:
            return arts
        m = self.model
        spans = [a.sentences or reading_sentences(a.text) for a in arts]
        # Document vectors and the label closeness read the sentences the model was trained and cross-validated on
        # (split_sentences, reading_sentences), not the parse's, whose first sentences differ (whitespace, headlines,
        # datelines).
        vecs = m.article_features([a.text for a in arts]) if m.emb_heads else None
        for art, sents, pred in zip(arts, spans, m.predict([a.text for a in arts], vecs), strict=True):
            art.findings = [f for f in art.findings if f.layer not in ("narratives", "explanation")]
            art.findings.extend(self._findings(art, sents, pred))
        return arts

    def _findings(self, art: Article, sents: list[Sentence], pred: Prediction) -> list[Finding]:
        m, tax = self.model, self.model.taxonomy
        out: list[Finding] = []
        best: tuple[float, str, list[dict[str, Any]]] | None = None
        evidence = m.evidence_many([f for f in pred.fine if f != tax.other], art.text, sents)
        for label in pred.fine:
            coarse = tax.parent(label)
            ev = evidence.get(label, [])
            score = pred.scores.get(label, 1.0)
            out.append(
                Finding(
                    layer="narratives",
                    label=label,
                    start=ev[0]["start"] if ev else None,
                    end=ev[0]["end"] if ev else None,
                    score=round(score, 4),
                    analyser=self.name,
                    version=self.version,
                    attrs={"coarse": coarse, "coarse_score": pred.scores.get(coarse, score), "evidence": ev},
                )
            )
            # The dominant narrative: the most probable fine label (its score includes its parent's),
            # a named sub-narrative before a catch-all.
            rank = score * (0.8 if label.endswith(": Other") else 1.0)
            if best is None or rank > best[0]:
                best = (rank, label, ev)
        if best is not None:
            _, label, ev = best
            text, quotes = m.explain(label, art.text, sents, ev, art.doc)
            out.append(
                Finding(
                    layer="explanation",
                    label=label,
                    score=out[pred.fine.index(label)].score,
                    analyser=self.name,
                    version=self.version,
                    attrs={"text": text, "coarse": tax.parent(label), "quotes": quotes},
                )
            )
        return out


# --- training and evaluation entry points (called by the CLI) -----------------------------------


def _arrays(ds: Any) -> tuple[list[str], list[list[str]], list[list[str]]]:
    ids = ds.ids
    return [ds.texts[i] for i in ids], [ds.labels[i].coarse for i in ids], [ds.labels[i].fine for i in ids]


def other_language_sets(
    data_dir: str | Path, lang: str, taxonomy: Taxonomy
) -> Iterator[tuple[str, list[str], list[list[str]], list[list[str]]]]:
    """(language, texts, coarse, fine) of each labelled folder of every other language under a
    SemEval-2025 T10 release or task folder (``<LANG>/``, ``train_target_4_December_release/<LANG>/``
    and ``dev_gold/<LANG>/``)."""
    from ..evaluate.semeval2025 import load_dataset

    root = Path(data_dir)
    for other in ("BG", "EN", "HI", "PT", "RU"):
        if other == lang.upper():
            continue
        for folder in (root / other, root / "train_target_4_December_release" / other, root / "dev_gold" / other):
            if folder.is_dir():
                yield (other, *_arrays(load_dataset(folder, other, taxonomy)))


def other_language_articles(
    data_dir: str | Path, lang: str, taxonomy: Taxonomy
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The labelled articles of every other language (``other_language_sets``), in one list."""
    texts: list[str] = []
    coarse: list[list[str]] = []
    fine: list[list[str]] = []
    for _, t, c, f in other_language_sets(data_dir, lang, taxonomy):
        texts += t
        coarse += c
        fine += f
    return texts, coarse, fine


def _extra(data_dir: str | Path, lang: str, tax: Taxonomy, cfg: NarrativeConfig) -> ExtraArticles | None:
    if not cfg.other_languages:
        return None
    texts, coarse, fine = other_language_articles(data_dir, lang, tax)
    if not texts:
        raise ValueError(f"{data_dir}: other_languages is set but no other language's annotations were found")
    return ExtraArticles(cfg.vectors(texts), coarse, fine)


def cross_validate(
    texts: Sequence[str],
    coarse: Sequence[list[str]],
    fine: Sequence[list[str]],
    config: NarrativeConfig | None = None,
    taxonomy: Taxonomy | None = None,
    folds: int = 5,
    seed: int = 13,
    doc_vectors: np.ndarray | None = None,
    extra: ExtraArticles | None = None,
) -> dict[str, Any]:
    """K-fold CV by article; thresholds are tuned inside each training fold. Official metrics.
    ``extra`` (other languages) is added to every training fold and never tested on."""
    from ..evaluate.semeval2025 import f1_samples, per_label_prf

    tax = taxonomy or load_taxonomy()
    cfg = config or NarrativeConfig()
    preds: list[Prediction | None] = [None] * len(texts)
    per_fold = []
    for test in kfold(len(texts), folds, seed):
        train = np.setdiff1d(np.arange(len(texts)), test)
        m = NarrativeModel(tax, cfg).fit(
            [texts[i] for i in train],
            [coarse[i] for i in train],
            [fine[i] for i in train],
            None if doc_vectors is None else doc_vectors[train],
            extra=extra,
        )
        fold_pred = m.predict([texts[i] for i in test], None if doc_vectors is None else doc_vectors[test])
        for i, p in zip(test, fold_pred, strict=True):
            preds[i] = p
        per_fold.append(
            {
                "coarse": f1_samples(
                    [coarse[i] for i in test], [p.coarse for p in fold_pred], tax.coarse_labels
                )[0],
                "fine": f1_samples(
                    [fine[i] for i in test], [p.fine for p in fold_pred], tax.official_fine_labels
                )[0],
                "decoder": asdict(m.decoder_parameters),
            }
        )
    pc = [p.coarse for p in preds if p is not None]
    pf = [p.fine for p in preds if p is not None]
    fc, fc_sd = f1_samples(coarse, pc, tax.coarse_labels)
    ff, ff_sd = f1_samples(fine, pf, tax.official_fine_labels)
    return {
        "documents": len(texts),
        "folds": folds,
        "seed": seed,
        "config": asdict(cfg),
        "f1_samples_coarse": fc,
        "f1_samples_coarse_std": fc_sd,
        "f1_samples_fine": ff,
        "f1_samples_fine_std": ff_sd,
        "per_fold": per_fold,
        "per_label_coarse": per_label_prf(coarse, pc, tax.coarse_labels),
        "per_label_fine": per_label_prf(fine, pf, tax.official_fine_labels),
    }


def evaluate(
    data_dir: str | Path,
    folds: int = 5,
    seed: int = 13,
    lang: str = "EN",
    config: NarrativeConfig | None = None,
    taxonomy: str | Path = "semeval2025",
) -> dict[str, Any]:
    """Cross-validate on a SemEval-2025 T10 training folder: F1-samples fine/coarse and per-label P/R/F1."""
    from ..evaluate.semeval2025 import load_dataset

    tax = load_taxonomy(taxonomy)
    texts, coarse, fine = _arrays(load_dataset(data_dir, lang, tax))
    cfg = config or NarrativeConfig()
    vecs = article_features(cfg, texts, tax) if cfg.embeddings else None
    return cross_validate(texts, coarse, fine, cfg, tax, folds, seed, vecs, _extra(data_dir, lang, tax, cfg))


def train(
    data_dir: str | Path,
    out_path: str | Path = MODEL_DIR,
    lang: str = "EN",
    config: NarrativeConfig | None = None,
    taxonomy: str | Path = "semeval2025",
) -> dict[str, Any]:
    """Train on a SemEval-2025 T10 folder and save the model; returns a short report."""
    from ..evaluate.semeval2025 import load_dataset

    t0 = time.time()
    tax = load_taxonomy(taxonomy)
    texts, coarse, fine = _arrays(load_dataset(data_dir, lang, tax))
    cfg = config or NarrativeConfig()
    model = NarrativeModel(tax, cfg).fit(texts, coarse, fine, extra=_extra(data_dir, lang, tax, cfg))
    folder = model.save(out_path)
    _load.cache_clear()
    size = sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("model."))
    return {
        "documents": len(texts),
        "narrative_documents": sum(c != [tax.other] for c in coarse),
        "heads": {k: len(h.labels) for k, h in model.heads.items()},
        "decoder": {model.config.decoder: asdict(model.decoder_parameters)},
        "config": asdict(model.config),
        "out": str(folder),
        "bytes": size,
        "seconds": round(time.time() - t0, 1),
    }


def _predict_dir(
    docs_dir: str | Path, model_dir: str | Path | None, encoding: str
) -> tuple[NarrativeModel, dict[str, str]]:
    from ..evaluate.semeval2025 import read_documents

    docs = read_documents(docs_dir, encoding)
    if not docs:
        raise ValueError(f"{docs_dir}: no *.txt documents")
    return load_model(str(model_dir) if model_dir else None), docs


def predict_st2(
    docs_dir: str | Path,
    out_file: str | Path,
    model_dir: str | Path | None = None,
    encoding: str = "utf-8",
    narrative_share: float | Literal["auto"] | None = "auto",
) -> dict[str, Any]:
    """Write the subtask-2 submission for a folder of documents. ``narrative_share``: the share of the folder's
    documents that carry a narrative; ``"auto"`` estimates it from the folder, ``None`` keeps the training
    articles' (``NarrativeModel.predict``). Returns the number of documents and the shares."""
    from ..evaluate.semeval2025 import NarrativeRecord, write_st2

    model, docs = _predict_dir(docs_dir, model_dir, encoding)
    ids = list(docs)
    tax = model.taxonomy
    S = model.scores([docs[i] for i in ids])
    share = model.resolve_share(S, narrative_share)
    records = [
        NarrativeRecord(i, [tax.parent(f) for f in p.fine], p.fine)
        for i, p in zip(ids, model.decisions(S, share), strict=True)
    ]
    return {
        "documents": write_st2(out_file, records),
        "narrative_share": share,
        "trained_share": model.meta.get("narrative_share"),
        "estimated": narrative_share == "auto",
    }


def predict_st3(
    docs_dir: str | Path,
    dominant_file: str | Path,
    out_file: str | Path,
    model_dir: str | Path | None = None,
    encoding: str = "utf-8",
) -> int:
    """Write the subtask-3 submission: an explanation for each given dominant narrative."""
    from ..evaluate.semeval2025 import read_st3, write_st3

    model, docs = _predict_dir(docs_dir, model_dir, encoding)
    rows = read_st3(dominant_file, model.taxonomy, docs, str(docs_dir), explanations=False)
    for r in rows.values():
        text = docs[r.doc_id]
        r.explanation = model.explain(
            r.dominant_fine or r.dominant or model.taxonomy.other, text, reading_sentences(text)
        )[0]
    return write_st3(out_file, rows.values())
