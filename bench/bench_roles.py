"""Entity-framing (roles) benchmark: 5-fold CV by article on the English SemEval-2025 T10 ST1 data.

Reports the official measures (EMR of the fine-role set, main-role accuracy, micro P/R/F1) for
the shipped configuration, the majority baseline and ablations (one feature block left out, or
one block alone). Writes ``bench/results/roles.json`` and prints a markdown table.

    python bench/bench_roles.py [--data ../shared/data/raw/semeval2025_t10] [--quick]
    python bench/bench_roles.py --no-ablations --languages BG,HI,PT,RU \
        --out bench/results/roles_languages.json   # + the other languages' annotations

``--neural`` adds the fine-tuned cross-encoder (``role_encoder.py``; the ``train`` extra): one
encoder per training fold, cached in ``--cache`` (~12 minutes a fold on two cores, ~23 on one). Folds can be
fine-tuned ahead in parallel jobs, ``--train-folds 0,1`` and ``--train-folds 2,3,4``, each with
``OMP_NUM_THREADS=1``; the run with ``--neural`` then reads them from the cache.

``--languages`` adds two rows, both with the multilingual encoder (``use-m3``): English alone, and
English with the named languages' train and dev annotations added to every training fold (never
tested). Embeddings are cached in ``~/.cache/narrascope`` (vectors only, no text is kept).

``--stance`` measures how far the article's stance could carry the main role, with *gold* information
(an upper bound, not a system): the gold subtask-2 coarse narratives of the article crossed with the
actor's camp (Russia's side, Ukraine and the West, the climate-policy establishment, other; a small
name list below) added to the features, and a lookup of the training folds' majority role per
(domain, narrative or "Other" article, camp) cell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from narrascope.analysers.roles import (
    FEATURE_PARTS,
    LabelledSet,
    RoleModel,
    _folds,
    contexts_of,
    cross_validate,
    featurise,
    load_labelled,
    neural_oof,
)
from narrascope.embed import get_encoder
from narrascope.evaluate.semeval2025_st1 import MentionRecord, score

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
PUBLISHED = [
    ("3rd place (avg. of 5 languages, test)", 0.84, 0.41),
    ("zero-shot LLM system", 0.894, 0.345),
    ("majority baseline (dev)", 0.809, 0.124),
]


class CachedEncoder:
    """Embeds each distinct text once across all ablations and runs (keyed by a hash of the text)."""

    def __init__(self, name: str) -> None:
        self.encode = get_encoder(name)
        self.path = Path.home() / ".cache" / "narrascope" / f"bench_roles_{name}.pkl"
        self.cache: dict[str, np.ndarray] = pickle.loads(self.path.read_bytes()) if self.path.is_file() else {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        todo = list(dict.fromkeys((k, t) for k, t in zip(keys, texts, strict=True) if k not in self.cache))
        for i in range(0, len(todo), 512):
            chunk = todo[i : i + 512]
            self.cache.update(zip([k for k, _ in chunk], self.encode([t for _, t in chunk]), strict=True))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(self.cache))
        return np.stack([self.cache[k] for k in keys])


def multilingual_rows(args: argparse.Namespace, data: LabelledSet, params: dict) -> dict[str, dict]:
    """English alone and English + other languages, both on the multilingual encoder."""
    root = Path(args.data)
    enc = CachedEncoder("use-m3")
    params = {**params, "encoder": "use-m3"}

    def features(d: LabelledSet) -> np.ndarray:
        return featurise(contexts_of(d.articles, d.spans), enc)

    X = features(data)
    Xs, recs = [], []
    langs = [x.strip().upper() for x in args.languages.split(",") if x.strip()]
    for lang in langs:
        for split in ("train_target_4_December_release", "dev_gold"):
            folder = root / split / lang
            if (folder / "subtask-1-annotations.txt").is_file():
                d = load_labelled(folder, lang.lower())
                Xs.append(features(d))
                recs += d.records
                print(f"{lang} {split}: {len(d.records)} mentions", flush=True)
    extra = (np.vstack(Xs), recs, 1.0)
    return {
        "English only, use-m3 encoder": cross_validate(X, data.records, args.folds, args.seed, **params),
        f"English + {'+'.join(langs)} ({len(recs)} mentions), use-m3": cross_validate(
            X, data.records, args.folds, args.seed, extra, **params
        ),
    }


# Camps for the --stance upper bound (matched on the mention's lower-cased words).
CAMPS = {
    "russia": set(
        "russia russian russians putin kremlin moscow lavrov zakharova peskov shoigu medvedev wagner prigozhin "
        "lukashenko belarus kadyrov nebenzya gerasimov rt sputnik donetsk luhansk dpr lpr".split()
    ),
    "ukraine and the west": set(
        "ukraine ukrainian ukrainians zelensky zelenskyy zelenskiy kiev kyiv kuleba zaluzhny podolyak yermak nato "
        "us u.s u.s. usa america american americans washington biden blinken austin sullivan kirby pentagon eu "
        "european europe brussels leyen borrell west western uk britain british london johnson sunak truss "
        "germany german berlin scholz baerbock france french paris macron poland polish warsaw cia g7 stoltenberg "
        "nuland obama clinton soros azov bandera".split()
    ),
    "climate establishment": set(
        "gore kerry gates greta thunberg ipcc un wef davos schwab activists activist scientists alarmists "
        "globalists democrats".split()
    ),
}


def camp_of(mention: str) -> np.ndarray:
    words = set(re.findall(r"[a-z.]+", mention.lower()))
    hits = [bool(words & names) for names in CAMPS.values()]
    return np.array([*hits, not any(hits)], dtype=np.float32)


def stance_rows(args: argparse.Namespace, data: LabelledSet, X: np.ndarray, params: dict) -> dict[str, dict]:
    """Upper bounds from gold narratives x actor camp (see the module docstring)."""
    folder = Path(args.data) / "train_target_4_December_release" / "EN"
    folder = folder if folder.is_dir() else Path(args.data)
    narratives: dict[str, list[str]] = {}
    for line in (folder / "subtask-2-annotations.txt").read_text(encoding="utf-8").splitlines():
        doc_id, labels, *_ = line.split("\t") + [""]
        narratives[doc_id] = [c for c in labels.split(";") if c]
    recs = data.records
    coarse = sorted({c for r in recs for c in narratives.get(r.doc_id, [])})
    N = np.array([[c in narratives.get(r.doc_id, []) for c in coarse] for r in recs], dtype=np.float32)
    C = np.stack([camp_of(r.mention) for r in recs])
    cross = np.einsum("ij,ik->ijk", N, C).reshape(len(recs), -1)
    rows = {
        "upper bound: + gold narratives x actor camp": cross_validate(
            np.hstack([X, cross, C]), recs, args.folds, args.seed, **params
        )
    }
    # majority role (and fine-role set) of the training folds in each (domain, narrative?, camp) cell
    cell = [
        (r.doc_id.split("_")[1], narratives.get(r.doc_id) == ["Other"], int(c.argmax()))
        for r, c in zip(recs, C, strict=True)
    ]
    fold = _folds([r.doc_id for r in recs], args.folds, args.seed)
    majority: dict[tuple, tuple[str, list[str]]] = {}  # (test fold, cell) -> main role, fine roles
    preds: list[MentionRecord] = []
    for i, r in enumerate(recs):
        key = (fold[i], cell[i])
        if key not in majority:
            train = [j for j in range(len(recs)) if fold[j] != fold[i]]
            same = [j for j in train if cell[j] == cell[i]] or train
            main = Counter(recs[j].main_role for j in same).most_common(1)[0][0]
            fine = Counter(tuple(sorted(recs[j].fine_roles)) for j in same if recs[j].main_role == main)
            majority[key] = main, list(fine.most_common(1)[0][0])
        preds.append(MentionRecord(r.doc_id, r.mention, r.start, r.end, *majority[key]))
    per_fold = [
        score([recs[i] for i in np.where(fold == f)[0]], [preds[i] for i in np.where(fold == f)[0]])
        for f in range(args.folds)
    ]
    rows["upper bound: majority role per (domain, gold narrative or Other, actor camp)"] = {
        **score(recs, preds),
        "fold_std": {k: float(np.std([pf[k] for pf in per_fold])) for k in ("emr", "main_role_accuracy")},
    }
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="skip the single-block ablations")
    ap.add_argument("--languages", default="", help="e.g. BG,HI,PT,RU: also train with these annotations")
    ap.add_argument("--no-ablations", action="store_true", help="only the shipped configuration (and --languages)")
    ap.add_argument("--stance", action="store_true", help="also the gold-stance upper bounds")
    ap.add_argument("--neural", action="store_true", help="also the fine-tuned cross-encoder, alone and mixed")
    ap.add_argument("--train-folds", default="", help="only fine-tune these folds' encoders into --cache, then stop")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "narrascope"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "roles.json"))
    args = ap.parse_args()

    t0 = time.time()
    data = load_labelled(args.data)
    if args.train_folds:
        neural_oof(data, args.folds, args.seed, args.cache, only=[int(f) for f in args.train_folds.split(",")])
        return
    base = RoleModel()
    enc = CachedEncoder(base.encoder)
    contexts = contexts_of(data.articles, data.spans)
    params = {
        "encoder": base.encoder,
        "c_main": base.c_main,
        "c_fine": base.c_fine,
        "fine_threshold": base.fine_threshold,
    }

    def run(parts: Sequence[str]) -> dict:
        X = featurise(contexts, enc, parts)
        return cross_validate(X, data.records, args.folds, args.seed, parts=list(parts), **params)

    plan = [("shipped (all blocks)", list(FEATURE_PARTS))]
    if not args.no_ablations:
        plan += [(f"without {p}", [q for q in FEATURE_PARTS if q != p]) for p in FEATURE_PARTS]
    if not args.quick and not args.no_ablations:
        plan += [(f"only {p}", [p]) for p in FEATURE_PARTS if p != "cross"]
    meta = {
        "task": "SemEval-2025 T10 subtask 1 (entity framing), English train, CV by article",
        "mentions": len(data.records),
        "articles": len(data.articles),
        "folds": args.folds,
        "seed": args.seed,
        "params": params,
    }
    rows: dict[str, dict] = {}
    for name, parts in plan:
        rows[name] = run(parts)
        print(f"{name}: main {rows[name]['main_role_accuracy']:.3f} EMR {rows[name]['emr']:.3f}", flush=True)
        write(rows, meta, Path(args.out), time.time() - t0)
    if args.neural:
        oof = neural_oof(data, args.folds, args.seed, args.cache)
        X = featurise(contexts, enc, FEATURE_PARTS)
        for name, w in (
            ("fine-tuned encoder alone", 1.0),
            ("shipped linear model + fine-tuned encoder, averaged", base.neural_weight),
        ):
            rows[name] = cross_validate(X, data.records, args.folds, args.seed, neural=oof, **params, neural_weight=w)
            print(f"{name}: main {rows[name]['main_role_accuracy']:.3f} EMR {rows[name]['emr']:.3f}", flush=True)
        write(rows, meta, Path(args.out), time.time() - t0)
    if args.stance:
        X = featurise(contexts, enc, FEATURE_PARTS)
        for name, r in stance_rows(args, data, X, params).items():
            rows[name] = r
            print(f"{name}: main {r['main_role_accuracy']:.3f} EMR {r['emr']:.3f}", flush=True)
        write(rows, meta, Path(args.out), time.time() - t0)
    if args.languages:
        for name, r in multilingual_rows(args, data, params).items():
            rows[name] = r
            print(f"{name}: main {r['main_role_accuracy']:.3f} EMR {r['emr']:.3f}", flush=True)
        write(rows, meta, Path(args.out), time.time() - t0)
    print_table(rows, meta)


def write(rows: dict[str, dict], meta: dict, out: Path, seconds: float) -> None:
    measures = ("emr", "main_role_accuracy", "micro_precision", "micro_recall", "micro_f1")
    result = {
        **meta,
        "majority_baseline": rows["shipped (all blocks)"]["majority_baseline"],
        "results": {k: {m: v[m] for m in measures} | {"fold_std": v["fold_std"]} for k, v in rows.items()},
        "published": [{"system": s, "main_role_accuracy": a, "emr": e} for s, a, e in PUBLISHED],
        "seconds": round(seconds, 1),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")


def print_table(rows: dict[str, dict], meta: dict) -> None:
    print(
        f"| system ({meta['mentions']} mentions, {meta['folds']}-fold CV by article) | main-role acc. | EMR "
        "| micro P | micro R | micro F1 |"
    )
    print("|---|---|---|---|---|---|")
    table = [("majority baseline (train CV)", rows["shipped (all blocks)"]["majority_baseline"])]
    for name, r in table + list(rows.items()):
        print(
            f"| {name} | {r['main_role_accuracy']:.3f} | {r['emr']:.3f} | {r['micro_precision']:.3f} "
            f"| {r['micro_recall']:.3f} | {r['micro_f1']:.3f} |"
        )
    for s, a, e in PUBLISHED:
        print(f"| published: {s} | {a:.3f} | {e:.3f} | | | |")


if __name__ == "__main__":
    main()
