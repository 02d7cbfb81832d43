"""Narratives: two more signals measured against the shipped model, on its own 5-fold CV of English T10.

1. **Evidence-sentence heads** (multi-instance): TF-IDF logistic regressions over *sentences*, each
   sentence carrying its article's labels (weighted 1/sentences so every article counts once); an
   article's score for a label is the mean of its ``k`` best sentences. Mixed into the "Other" gate
   and the coarse scores.
2. **Persuasion-technique density as gate evidence**: the shipped technique model's spans per
   sentence (overall, per technique, share of characters), stacked with the shipped gate's logit.
3. **Slant as gate evidence**: a sentence classifier trained on BABE (biased / non-biased news
   sentences, ``babe_mbic/final_labels_SG1.csv`` and ``SG2``) over the shared MiniLM sentence vectors,
   pooled over each article's sentences (share above 0.5, mean of the best three, mean), stacked with
   the shipped gate's logit. It never sees a T10 label.
4. **A gate that also learns from the other languages** (``--languages``, needs the ``multilingual``
   extra): a logistic regression over USE-m3 vectors of the first 15 sentences, trained on the English
   training folds alone or with the 1,437 BG, HI, PT and RU articles (training release and dev_gold),
   classes balanced within each language; its out-of-fold ROC AUC on English, and stacked with the
   shipped gate's logit.

Protocol: out-of-fold scores of every article (the shipped model's heads trained per fold; the
extra heads on the same training folds), then *one* set of thresholds tuned on the pooled
out-of-fold scores for each row. That tuning is optimistic, equally for the baseline row and the
others, so compare rows with each other, not with ``bench_narratives.py`` (thresholds tuned inside
each training fold there).

    python bench/bench_narratives_signals.py [--data ../shared/data/raw/semeval2025_t10] [--languages]

Writes ``bench/results/narratives_signals.json``. Technique features and sentence vectors are cached
in ``~/.cache/narrascope`` (numbers only, no text).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from narrascope.analysers import narratives as nar
from narrascope.evaluate.semeval2025 import load_dataset
from narrascope.taxonomy.narratives import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
BABE = ROOT.parent / "shared" / "data" / "raw" / "babe_mbic"
OUT = ROOT / "bench" / "results" / "narratives_signals.json"
MAX_SENTENCES = 60


def technique_features(texts: list[str]) -> np.ndarray:
    """Per article: spans per sentence of each technique, all spans per sentence, mean span score,
    share of characters inside spans (shipped technique model, cached by text hash)."""
    from narrascope.analysers.techniques import TechniqueAnalyser
    from narrascope.document import Article
    from narrascope.nlp import parse
    from narrascope.taxonomy.techniques import load_techniques

    key = hashlib.sha1("\0".join(texts).encode("utf-8")).hexdigest()[:16]
    cache = Path.home() / ".cache" / "narrascope" / f"bench_narratives_techniques_{key}.npy"
    if cache.is_file():
        return np.load(cache)
    names = load_techniques().names
    analyser = TechniqueAnalyser()
    F = np.zeros((len(texts), len(names) + 3), np.float32)
    for b in range(0, len(texts), 20):
        for k, art in enumerate(parse([Article(text=t) for t in texts[b : b + 20]])):
            spans = analyser.predict(art)
            n_sent = max(1, len(art.sentences))
            for f in spans:
                F[b + k, names.index(f.label)] += 1.0 / n_sent
            F[b + k, -3] = len(spans) / n_sent
            F[b + k, -2] = float(np.mean([f.score for f in spans])) if spans else 0.0
            F[b + k, -1] = sum(f.end - f.start for f in spans) / max(1, len(art.text))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, F)
    return F


def cached_vectors(name: str, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    key = hashlib.sha1("\0".join([name, *texts]).encode("utf-8")).hexdigest()[:16]
    cache = Path.home() / ".cache" / "narrascope" / f"bench_narratives_{name}_{key}.npy"
    if cache.is_file():
        return np.load(cache)
    vecs = encode(texts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vecs)
    return vecs


def slant_features(sents: list[list[str]], babe: Path) -> np.ndarray:
    """Per article: share of sentences a BABE-trained bias classifier calls biased, mean of its three
    highest probabilities, mean probability (``analysers/slant.py`` over MiniLM sentence vectors)."""
    from narrascope.analysers.slant import fit_slant, load_babe
    from narrascope.embed import get_encoder

    encode = get_encoder("minilm-int8")
    btexts, biased = load_babe(babe)
    model = fit_slant(cached_vectors("babe_minilm", btexts, encode), biased, "minilm-int8")
    flat = cached_vectors("sentences_minilm", [s for ss in sents for s in ss], encode)
    bounds = np.cumsum([0] + [len(ss) for ss in sents])
    return model.article_features([flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def language_gate(data: str, tax: Taxonomy, texts: list[str], narrative: np.ndarray, folds: list[np.ndarray]) -> dict:
    """Out-of-fold P(narrative) on English from USE-m3 gates trained on English alone and with the
    other languages' articles (classes balanced within each language)."""
    o_texts: list[str] = []
    o_lang: list[str] = []
    o_narr: list[bool] = []
    for lang, t, c, _ in nar.other_language_sets(data, "EN", tax):
        o_texts += t
        o_lang += [lang] * len(t)
        o_narr += [x != [tax.other] for x in c]
    if not o_texts:
        raise SystemExit(f"{data}: --languages needs the BG, HI, PT or RU annotations")

    def doc(ts: list[str]) -> np.ndarray:
        return cached_vectors("usem3_15", ts, lambda x: nar.document_vectors(x, None, "use-m3", 15))

    V, VO = doc(texts), doc(o_texts)
    lang = np.array(["EN"] * len(texts) + o_lang)
    y_o = np.array(o_narr)
    out: dict = {"other_language_articles": len(o_texts)}
    for name, with_other in (("english", False), ("with_other_languages", True)):
        p = np.zeros(len(texts))
        for test in folds:
            train = np.setdiff1d(np.arange(len(texts)), test)
            X = np.vstack([V[train], VO]) if with_other else V[train]
            y = np.concatenate([narrative[train], y_o]) if with_other else narrative[train]
            lg = np.concatenate([lang[train], lang[len(texts) :]]) if with_other else lang[train]
            w = np.ones(len(y))
            for g in set(lg):
                m = lg == g
                for cls in (True, False):
                    k = m & (y == cls)
                    if k.any():
                        w[k] = m.sum() / (2 * k.sum())
            clf = LogisticRegression(C=1.0, max_iter=3000).fit(X, y, sample_weight=w)
            p[test] = clf.predict_proba(V[test])[:, 1]
        out[name] = p
    return out


def sentence_heads(
    model: nar.NarrativeModel,
    sents: list[list[str]],
    gold_c: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    k: int,
    C: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gate and coarse scores of the test articles from sentence-level heads trained on ``train``."""
    sp = model.space
    owner_tr = np.array([i for i in train for _ in sents[i]])
    Xs = model.vectorizer.transform([s for i in train for s in sents[i]])
    weight = np.array([1.0 / len(sents[i]) for i in owner_tr])
    Xt = model.vectorizer.transform([s for i in test for s in sents[i]])
    owner_te = np.array([i for i in test for _ in sents[i]])

    def pooled(p: np.ndarray) -> np.ndarray:
        return np.array([np.sort(p[owner_te == i])[::-1][:k].mean() if (owner_te == i).any() else 0.0 for i in test])

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
        clf.fit(Xs[rows], y, sample_weight=weight[rows])
        return pooled(clf.predict_proba(Xt)[:, 1])

    everything = np.ones(len(owner_tr), bool)
    gate = fit(everything, ~gold_c[owner_tr, -1])
    coarse = np.full((len(test), len(sp.coarse)), -1.0)
    for j in range(len(sp.coarse)):
        in_domain = gold_c[owner_tr, :-1][:, sp.coarse_domain == sp.coarse_domain[j]].any(1)
        y = gold_c[owner_tr, j][in_domain]
        if y.sum() >= 2 and (~y).sum() >= 2:
            coarse[:, j] = fit(in_domain, y)
    return gate, coarse


def oof_gate(F: np.ndarray, narrative: np.ndarray, folds: list[np.ndarray]) -> np.ndarray:
    """Out-of-fold P(narrative) of a logistic regression over standardised features ``F``."""
    out = np.zeros(len(F))
    for test in folds:
        train = np.setdiff1d(np.arange(len(F)), test)
        scale = StandardScaler().fit(F[train])
        clf = LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced")
        clf.fit(scale.transform(F[train]), narrative[train])
        out[test] = clf.predict_proba(scale.transform(F[test]))[:, 1]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--k", type=int, default=3, help="sentences averaged per label (evidence-sentence heads)")
    ap.add_argument("--C", type=float, default=1.0, help="C of the sentence heads")
    ap.add_argument("--babe", default=str(BABE), help="folder of BABE's final_labels_SG1.csv and SG2.csv")
    ap.add_argument("--languages", action="store_true", help="also the gate over the other languages (USE-m3)")
    args = ap.parse_args()
    t0 = time.time()
    tax = load_taxonomy()
    texts, coarse, fine = nar._arrays(load_dataset(args.data, "EN", tax))
    n, sp = len(texts), nar.LabelSpace(tax)
    cfg = nar.load_model().config
    gc, gf = sp.onehot(coarse, "coarse"), sp.onehot(fine, "fine")
    sents = [[texts[i][s.start : s.end] for s in nar.split_sentences(texts[i])][:MAX_SENTENCES] for i in range(n)]
    parts, mil_gate, mil_coarse = [], np.zeros(n), np.full((n, len(sp.coarse)), -1.0)
    folds = nar.kfold(n, 5, cfg.seed)
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        m = nar.NarrativeModel(tax, cfg).fit(
            [texts[i] for i in train], [coarse[i] for i in train], [fine[i] for i in train], tune=False
        )
        parts.append((test, m.scores([texts[i] for i in test])))
        mil_gate[test], mil_coarse[test] = sentence_heads(m, sents, gc, train, test, args.k, args.C)
        print(f"fold done, {time.time() - t0:.0f} s", flush=True)
    S = nar.ScoreMatrix.concat(parts, n)
    narrative = ~gc[:, -1]

    # technique density: stacked with the shipped gate's logit, out of fold on the same folds
    T = technique_features(texts)
    logit = np.log(np.clip(S.gate, 1e-6, 1 - 1e-6) / np.clip(1 - S.gate, 1e-6, 1))
    stacked = oof_gate(np.hstack([logit[:, None], T]), narrative, folds)
    density_only = oof_gate(T, narrative, folds)
    slant = slant_features(sents, Path(args.babe))
    slant_stacked = oof_gate(np.hstack([logit[:, None], slant]), narrative, folds)
    slant_only = oof_gate(slant, narrative, folds)

    def row(name: str, gate: np.ndarray, coarse_scores: np.ndarray) -> dict:
        Sx = replace(S, gate=gate, coarse=coarse_scores)
        th = nar.tune_thresholds(Sx, gc, gf, sp, cfg)
        pc, pf = nar.decide(Sx, th, sp, cfg)
        r = {
            "f1_samples_coarse": round(float(nar._f1_rows(gc, pc).mean()), 4),
            "f1_samples_fine": round(float(nar._f1_rows(gf, pf).mean()), 4),
            "gate_auc": round(float(roc_auc_score(narrative, gate)), 3),
            "thresholds": th.__dict__,
        }
        print(f"{name}: {r['f1_samples_coarse']:.3f} / {r['f1_samples_fine']:.3f} (gate AUC {r['gate_auc']})")
        return {"system": name, **r}

    both = (S.coarse >= 0) & (mil_coarse >= 0)
    rows = [
        row("shipped model (baseline of this protocol)", S.gate, S.coarse),
        row("evidence-sentence gate alone", mil_gate, S.coarse),
        row("+ evidence-sentence heads, gate (w 0.5)", 0.5 * (S.gate + mil_gate), S.coarse),
        row(
            "+ evidence-sentence heads, coarse (w 0.5)", S.gate, np.where(both, 0.5 * (S.coarse + mil_coarse), S.coarse)
        ),
        row(
            "+ evidence-sentence heads, gate and coarse (w 0.3)",
            0.7 * S.gate + 0.3 * mil_gate,
            np.where(both, 0.7 * S.coarse + 0.3 * mil_coarse, S.coarse),
        ),
        row("technique density alone as the gate", density_only, S.coarse),
        row("gate stacked with technique density", stacked, S.coarse),
        row("BABE slant alone as the gate", slant_only, S.coarse),
        row("gate stacked with BABE slant", slant_stacked, S.coarse),
    ]
    languages = {}
    if args.languages:
        lg = language_gate(args.data, tax, texts, narrative, folds)
        languages = {"other_language_articles": lg["other_language_articles"]}
        for name, what in (("english", "English alone"), ("with_other_languages", "English and BG, HI, PT, RU")):
            g = lg[name]
            languages[f"use_m3_gate_auc_{name}"] = round(float(roc_auc_score(narrative, g)), 3)
            gl = np.log(np.clip(g, 1e-6, 1 - 1e-6) / np.clip(1 - g, 1e-6, 1))
            rows.append(
                row(
                    f"gate stacked with a USE-m3 gate trained on {what}",
                    oof_gate(np.stack([logit, gl], 1), narrative, folds),
                    S.coarse,
                )
            )
    result = {
        "dataset": "SemEval-2025 T10 EN train",
        "documents": n,
        "protocol": "5-fold CV (shipped folds); thresholds tuned once on pooled out-of-fold scores per row",
        "sentence_heads": {"k": args.k, "C": args.C, "max_sentences": MAX_SENTENCES},
        "rows": rows,
        **({"languages": languages} if languages else {}),
        "seconds": round(time.time() - t0),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("| system | F1-samples coarse | fine | gate AUC |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['system']} | {r['f1_samples_coarse']:.3f} | {r['f1_samples_fine']:.3f} | {r['gate_auc']:.3f} |")


if __name__ == "__main__":
    main()
