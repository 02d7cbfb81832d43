"""Benchmark of the fine-tuned transformer technique tagger alone, cross-validated on PTC.

    pip install -e ".[train]"
    python bench/bench_technique_tagger.py [--data ../shared/data/raw] [--cache ~/.cache/narrascope] [--folds 0,1,2,3,4]

The folds are those of ``techniques.evaluate`` (by article id). Each fold fine-tunes MiniLM on the
other folds' PTC articles (about 20 minutes on two cores; the artefact is cached, so a later
``evaluate`` with ``Params(neural=True)`` reuses it), then reads the held-out articles with the int8
ONNX export that ships: span identification F1 at several thresholds of P(inside) and technique
micro-F1 on the gold spans. Each fold's predictions are kept in ``CACHE/technique-tagger-cv/`` (folds can
run as parallel jobs: ``--folds 1,2`` and ``--folds 3,4``; ``--folds ''`` only pools them); the pooled
scores go to ``bench/results/technique_tagger.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from narrascope.analysers import technique_tagger
from narrascope.analysers.techniques import article_folds, decode_spans, label_repeated, load_corpora, parse_docs
from narrascope.evaluate import ptc as ptc_eval

ROOT = Path(__file__).resolve().parent
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data" / "raw"))
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "narrascope"))
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--epochs", type=int, default=technique_tagger.TrainParams.epochs)
    ap.add_argument("--out", default=str(ROOT / "results" / "technique_tagger.json"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    data = Path(args.data)
    docs = load_corpora(data / "semeval2020_t11_ptc", data / "semeval2023_t3" / "en")
    fold_of = article_folds(docs, 5)
    ptc = [d for d in docs if d.scheme == "ptc"]
    params = technique_tagger.TrainParams(epochs=args.epochs)
    out = Path(args.out)
    runs_dir = Path(args.cache) / "technique-tagger-cv"  # one file per fold: folds can run as parallel jobs
    runs_dir.mkdir(parents=True, exist_ok=True)
    for k in [int(x) for x in args.folds.split(",") if x]:
        t0 = time.time()
        train = [(d.id, d.text, d.spans) for d in ptc if fold_of[d.id] != k]
        tagger = technique_tagger.NeuralTagger(technique_tagger.train_cached(train, args.cache, params))
        fit_s = time.time() - t0
        test = [d for d in ptc if fold_of[d.id] == k]
        parse_docs(test, args.cache)
        run: dict = {"gold_si": [], "gold_tc": [], "pred_tc": [], "ms": [], **{f"si@{t}": [] for t in THRESHOLDS}}
        for d in test:
            t1 = time.perf_counter()
            r = tagger.run(d.text)
            p_in = tagger.token_probs(d.doc, r)
            run["ms"].append(1000 * (time.perf_counter() - t1))
            marg = [(s.start, np.stack([p_in[s.start : s.end], np.zeros(len(s))], axis=1)) for s in d.doc.sents]
            for t in THRESHOLDS:
                run[f"si@{t}"] += [[d.id, s, e] for s, e, _ in decode_spans(d.doc, marg, t)]
            run["gold_si"] += [[d.id, s, e] for s, e, _ in d.spans]
            gold = [ptc_eval.PTCSpan(d.id, s, e, lab) for s, e, lab in d.spans]
            pred = label_repeated(gold, tagger.classes, lambda uniq: tagger.span_proba(d.text, uniq, r))  # noqa: B023
            run["gold_tc"] += [[g.article_id, g.start, g.end, g.technique] for g in gold]
            run["pred_tc"] += [[p.article_id, p.start, p.end, p.technique] for p in pred]
        run["fit_seconds"] = round(fit_s)
        (runs_dir / f"fold{k}.json").write_text(json.dumps(run), encoding="utf-8")
        log = {f"si@{t}": round(_si(run[f"si@{t}"], run["gold_si"]), 4) for t in THRESHOLDS}
        logging.info("fold %d: %s, tc %.4f", k, log, _tc(run["gold_tc"], run["pred_tc"]))
    runs = {p.stem[4:]: json.loads(p.read_text(encoding="utf-8")) for p in sorted(runs_dir.glob("fold*.json"))}
    summary = _summary(runs, params)
    out.write_text(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))


def _si(pred: list, gold: list) -> float:
    return ptc_eval.score_si([ptc_eval.PTCSpan(*g) for g in gold], [ptc_eval.PTCSpan(*p) for p in pred])["f1"]


def _tc(gold: list, pred: list) -> float:
    return ptc_eval.score_tc([ptc_eval.PTCSpan(*g) for g in gold], [ptc_eval.PTCSpan(*p) for p in pred])["f1"]


def _summary(runs: dict, params: technique_tagger.TrainParams) -> dict:
    def cat(key: str) -> list:
        return [x for r in runs.values() for x in r[key]]

    return {
        "folds_run": sorted(int(k) for k in runs),
        "params": params.__dict__,
        "ptc_si": {str(t): round(_si(cat(f"si@{t}"), cat("gold_si")), 4) for t in THRESHOLDS},
        "ptc_tc": round(_tc(cat("gold_tc"), cat("pred_tc")), 4),
        "ms_per_article": round(float(np.mean(cat("ms"))), 1),
        "per_fold": {
            k: {
                "ptc_si@0.3": round(_si(r["si@0.3"], r["gold_si"]), 4),
                "ptc_tc": round(_tc(r["gold_tc"], r["pred_tc"]), 4),
            }
            for k, r in runs.items()
        },
        "date": time.strftime("%Y-%m-%d"),
        "runs": runs,
    }


if __name__ == "__main__":
    main()
