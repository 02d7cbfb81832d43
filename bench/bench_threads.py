"""Quality of threading and same-story scoring. Writes bench/results/threads.json.

    python bench/bench_threads.py [--data ../shared/data] [--no-actors]

1. BASIL (same-event triplets of Fox / NYT / HuffPost): all 240 articles mixed, written as one JSONL file
   with their ``published`` dates and read through ``narrascope.ingest``, threaded by ``Threader`` in one
   call; pairwise precision / recall / F1 of same-event decisions, with dates and with dates removed,
   plus a sweep of the event threshold (sensitivity) and the title+date floor.
2. SemEval-2022 T8 English pairs with text (``hfl_sample_with_text``): Pearson between our same-story
   similarity and the gold Overall score (1 = same story, 4 = unrelated, so the sign is flipped).
   ``zero_shot``: the threading score alone; ``fitted``: a linear blend of four similarities fitted on
   the English pairs of training_set.csv and scored on those of testing_set.csv.
3. Alignment precision on the hand-checked sample in bench/gold/stories_align_check.jsonl (offsets and
   verdicts only, no corpus text), re-derived from the current aligner.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import glob
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
BASIL = "raw/basil/articles"
T8 = "raw/semeval2022_t8/hfl_sample_with_text"
ALIGN_GOLD = HERE / "gold" / "stories_align_check.jsonl"


# ---- BASIL -------------------------------------------------------------------------------------


def basil_rows(data: Path) -> list[dict[str, Any]]:
    rows = []
    for f in sorted(glob.glob(str(data / BASIL / "*" / "*.json"))):
        d = json.loads(Path(f).read_text(encoding="utf-8"))
        paras = d["body-paragraphs"]
        if isinstance(paras, str):
            paras = ast.literal_eval(paras)
        paras = [" ".join(p) if isinstance(p, list) else str(p) for p in paras]
        if paras and paras[0].strip() == d["title"].strip():
            paras = paras[1:]
        rows.append(
            {
                "text": "\n\n".join(p for p in paras if p.strip()),
                "title": d["title"],
                "source": d["source"],
                "url": d.get("url"),
                "published": d["date"],
                "triplet": d["triplet-uuid"],
                "file": Path(f).stem,
            }
        )
    return rows


def basil_articles(rows: list[dict[str, Any]]) -> list[Any]:
    from narrascope.ingest import read

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "basil.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(
                    json.dumps({k: r[k] for k in ("text", "title", "source", "url", "published")}) + "\n"
                )
        arts = list(read([str(path)]))
    bad = [a for a in arts if not hasattr(a, "text")]
    if bad:
        raise SystemExit(f"unreadable BASIL rows: {bad[:3]}")
    return arts


def pairwise(pred: list[str], gold: list[str]) -> dict[str, float]:
    def pairs(labels: list[str]) -> set[tuple[int, int]]:
        return {(i, j) for i, j in itertools.combinations(range(len(labels)), 2) if labels[i] == labels[j]}

    p, g = pairs(pred), pairs(gold)
    tp = len(p & g)
    prec, rec = tp / max(1, len(p)), tp / max(1, len(g))
    return {
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(2 * prec * rec / max(1e-9, prec + rec), 4),
        "wrong_merges": len(p - g),
        "missed_pairs": len(g - p),
        "gold_pairs": len(g),
        "events": len(set(pred)),
        "gold_events": len(set(gold)),
    }


def run_basil(data: Path, actors: bool) -> dict[str, Any]:
    from narrascope.stories.threading import ThreadConfig, Threader, article_vectors

    rows = basil_rows(data)
    arts = basil_articles(rows)
    gold = [r["triplet"] for r in rows]
    t0 = time.perf_counter()
    if actors:
        from narrascope import Pipeline

        arts = list(Pipeline(["actors"]).pipe(arts))
    t_actors = time.perf_counter() - t0
    t0 = time.perf_counter()
    vecs = article_vectors(arts)
    t_embed = time.perf_counter() - t0
    undated = [dataclasses.replace(a, published=None) for a in arts]
    for a in undated:
        a.actors = next(b for b in arts if b.id == a.id).actors

    def thread(items: list[Any], cfg: ThreadConfig | None = None) -> list[str]:
        t = Threader(cfg)
        return [x.event_id for x in t.add_many(items, vecs)]

    t0 = time.perf_counter()
    dated_pred = thread(arts)
    t_thread = time.perf_counter() - t0
    out: dict[str, Any] = {
        "articles": len(arts),
        "triplets": len(set(gold)),
        "actors_analyser": actors,
        "with_dates": pairwise(dated_pred, gold),
        "without_dates": pairwise(thread(undated), gold),
        "seconds": {"actors": round(t_actors, 1), "embed": round(t_embed, 1), "thread": round(t_thread, 2)},
    }
    base = ThreadConfig()
    out["sweep_with_dates"] = {
        str(th): pairwise(thread(arts, dataclasses.replace(base, event_threshold=th)), gold)["f1"]
        for th in (0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.75)
    }
    out["sweep_without_dates"] = {
        str(th): pairwise(thread(undated, dataclasses.replace(base, undated_threshold=th)), gold)["f1"]
        for th in (0.6, 0.65, 0.7, 0.75, 0.8)
    }
    out["title_date_floor"] = title_date_floor(arts, gold)
    out["wrong_merge_examples"] = wrong_merges(dated_pred, gold, rows)
    return out


def title_date_floor(arts: list[Any], gold: list[str]) -> dict[str, float]:
    """The floor the issue names: cosine of title embeddings alone, same event when >= 0.5 and <= 4 days."""
    from narrascope.embed import embed
    from narrascope.stories.threading import parse_day

    emb = embed([a.title for a in arts])
    days = [parse_day(a.published) for a in arts]
    parent = list(range(len(arts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = emb @ emb.T
    for i, j in itertools.combinations(range(len(arts)), 2):
        if sims[i, j] >= 0.5 and abs((days[i] or 0) - (days[j] or 0)) <= 4:
            parent[find(i)] = find(j)
    return pairwise([str(find(i)) for i in range(len(arts))], gold)


def wrong_merges(pred: list[str], gold: list[str], rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for i, j in itertools.combinations(range(len(pred)), 2):
        if pred[i] == pred[j] and gold[i] != gold[j]:
            out.append({"a": rows[i]["file"], "b": rows[j]["file"]})
    return out[:20]


# ---- SemEval-2022 T8 ---------------------------------------------------------------------------


def t8_pairs(data: Path, name: str) -> list[dict[str, Any]]:
    csv.field_size_limit(10**9)
    with (data / T8 / f"{name}.csv").open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["lang1"] == "en" and r["lang2"] == "en"]


def _article(text: str) -> Any:
    from narrascope.document import Article

    text = text.strip()
    first, _, rest = text.partition("\n")
    if rest.strip() and len(first) < 200:
        return Article(text=first.strip() + "\n\n" + rest.strip(), title=first.strip())
    return Article(text=text)


def t8_features(pairs: list[dict[str, Any]]) -> np.ndarray:
    """Per pair: threading score, full-text cosine, soft sentence alignment (BERTScore-like F), share of
    sentences aligned above the fact threshold."""
    from narrascope.embed import embed
    from narrascope.stories.align import AlignConfig, pair_scores, units
    from narrascope.stories.threading import article_vectors, entity_keys, story_similarity

    arts = [_article(p[k]) for p in pairs for k in ("text1", "text2")]
    vecs = article_vectors(arts)
    us = units(arts)
    flat = [u.text for lst in us for u in lst]
    emb = embed(flat)
    per, k = [], 0
    for lst in us:
        per.append(emb[k : k + len(lst)])
        k += len(lst)
    full = np.stack([e.mean(0) if len(e) else np.zeros(emb.shape[1]) for e in per])
    full /= np.clip(np.linalg.norm(full, axis=1, keepdims=True), 1e-9, None)
    cfg = AlignConfig()
    feats = []
    for n in range(len(pairs)):
        a, b = 2 * n, 2 * n + 1
        score = story_similarity(vecs[a], vecs[b], entity_keys(arts[a]), entity_keys(arts[b]))
        s = pair_scores(us[a], us[b], per[a], per[b], cfg)
        if s.size:
            soft = 0.5 * (s.max(1).mean() + s.max(0).mean())
            share = 0.5 * ((s.max(1) >= cfg.threshold).mean() + (s.max(0) >= cfg.threshold).mean())
        else:
            soft = share = 0.0
        feats.append([score, float(full[a] @ full[b]), float(soft), float(share)])
    return np.array(feats)


def run_t8(data: Path) -> dict[str, Any]:
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import cross_val_predict

    train, test = t8_pairs(data, "training_set"), t8_pairs(data, "testing_set")
    xtr, xte = t8_features(train), t8_features(test)
    ytr = np.array([float(p["Overall"]) for p in train])
    yte = np.array([float(p["Overall"]) for p in test])

    def r(x: np.ndarray, y: np.ndarray) -> float:
        return round(float(-np.corrcoef(x, y)[0, 1]), 4)

    names = ["threading_score", "fulltext_cosine", "soft_alignment", "aligned_share"]
    model = Ridge(alpha=1.0).fit(xtr, ytr)
    cv = cross_val_predict(Ridge(alpha=1.0), xtr, ytr, cv=5)
    return {
        "train_pairs": len(train),
        "test_pairs": len(test),
        "zero_shot_test": {n: r(xte[:, i], yte) for i, n in enumerate(names)},
        "zero_shot_train": {n: r(xtr[:, i], ytr) for i, n in enumerate(names)},
        "fitted_test_pearson": round(float(np.corrcoef(model.predict(xte), yte)[0, 1]), 4),
        "fitted_train_cv_pearson": round(float(np.corrcoef(cv, ytr)[0, 1]), 4),
        "fitted_weights": {n: round(float(w), 4) for n, w in zip(names, model.coef_, strict=True)},
        "note": "Pearson against gold Overall with the sign flipped (gold 1 = same story, 4 = unrelated)",
    }


# ---- alignment precision -----------------------------------------------------------------------


def run_align_check(data: Path) -> dict[str, Any]:
    """Precision of the aligner on the hand-checked BASIL sample: each gold line names two articles,
    two sentence spans and a verdict; the aligner's current matches on those pairs are looked up."""
    if not ALIGN_GOLD.is_file():
        return {"skipped": f"{ALIGN_GOLD} missing"}
    gold = [json.loads(line) for line in ALIGN_GOLD.read_text().splitlines() if line.strip()]
    verdict = {(g["a"], g["b"], g["a_start"], g["b_start"]): g["same_fact"] for g in gold}
    rows = {r["file"]: r for r in basil_rows(data)}
    found = judged = correct = 0
    for a_file, b_file in sorted({(g["a"], g["b"]) for g in gold}):
        for m in align_pair(rows[a_file], rows[b_file]):
            found += 1
            key = (a_file, b_file, m[0], m[1])
            if key in verdict:
                judged += 1
                correct += bool(verdict[key])
    return {
        "pairs_of_articles": len({(g["a"], g["b"]) for g in gold}),
        "matches_found": found,
        "matches_judged": judged,
        "correct": correct,
        "precision": round(correct / judged, 4) if judged else None,
    }


def align_pair(ra: dict[str, Any], rb: dict[str, Any]) -> list[tuple[int, int, str, str, float]]:
    from narrascope.document import Article
    from narrascope.stories.align import align_sentences

    a = Article(text=ra["title"] + "\n\n" + ra["text"], title=ra["title"])
    b = Article(text=rb["title"] + "\n\n" + rb["text"], title=rb["title"])
    out = []
    for g in align_sentences([a, b])["shared"]:
        sa, sb = g["sentences"]
        out.append((sa["start"], sb["start"], sa["text"], sb["text"], g["score"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument(
        "--no-actors", action="store_true", help="skip the actors analyser (names from text only)"
    )
    ap.add_argument("--out", default=str(HERE / "results" / "threads.json"))
    args = ap.parse_args()
    data = Path(args.data)
    result = {
        "basil": run_basil(data, not args.no_actors),
        "semeval2022_t8": run_t8(data),
        "alignment": run_align_check(data),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
