"""Benchmark: technique spans and classes from a *frozen* all-mpnet-base-v2, cross-validated on PTC.

    pip install -e ".[train,mpnet]"
    python bench/bench_technique_frozen.py [--data ../shared/data/raw] [--cache ~/.cache/narrascope] [--layers 4,6,8]

The figures of the two-head configuration (``bench/results/technique_frozen_decoding.json``): two heads
over layers 4, 6 and 8 (seeds k and k + 100), pooled with the two heads over layers 8, 10 and 12 of
the previous configuration, and scored alone and mixed with the CRF:

    python bench/bench_technique_frozen.py --with-new --probs /tmp/h468.pkl --out /tmp/h468.json
    python bench/bench_technique_frozen.py --with-new --first-seed 1 --probs /tmp/h468b.pkl --out /tmp/h468b.json
    python bench/bench_technique_frozen.py --with-new --layers 8,10,12 --seeds 2 --probs /tmp/h81012.pkl \
        --out /tmp/h81012.json
    python bench/bench_technique_frozen.py --with-new --with-crf --probs /tmp/h468.pkl,/tmp/h468b.pkl,/tmp/h81012.pkl \
        --out bench/results/technique_frozen_decoding.json

A third head (seed index 2), pooled the same way, scored on its own and with the other two
(``bench/results/technique_frozen_3heads.json``, key ``3+crf0.25``: SI 0.456 against 0.453 for two heads,
every fold up by 0.003-0.007; shipped after the package CV, SI 0.453 against 0.447):

    python bench/bench_technique_frozen.py --with-new --first-seed 2 --probs /tmp/h468c.pkl --out /tmp/h468c.json
    python bench/bench_technique_frozen.py --with-new --with-crf --probs /tmp/h468.pkl,/tmp/h468b.pkl,/tmp/h468c.pkl \
        --out bench/results/technique_frozen_3heads.json

Fine-tuning a base-size encoder is out of reach on two cores (about 110 word pieces/s for a training
step, so hours per fold), but reading one is not (about 400 word pieces/s): every PTC train article
is read once by all-mpnet-base-v2 in windows of up to 254 word pieces, and the hidden states of
layers 4-12 are cached (``CACHE/bench_mpnet_states_ptc.pkl``, about 3.4 GB, 15 minutes). Per fold
(the folds of ``techniques.evaluate``, by article id):

- span identification: a learned mix of the chosen layers, a 256-unit projection and a BiLSTM give
  P(word piece inside a span); spaCy tokens take their highest word piece and spans are decoded as
  the shipped taggers decode them. The threshold for a fold is the one with the best pooled span F1
  on the *other* folds' predictions (cross-fitted), and the whole sweep is reported too;
- technique classification on gold spans: a logistic regression over the span's mean and first
  word-piece states, repeated spans getting their next most likely class as in the other benchmarks.

Decoding options scored on the same out-of-fold probabilities, each cross-fitted the same way:

- ``--seeds N``: N heads per fold (seeds k, k + 100, ...; ``--first-seed`` skips the first ones); the
  average of the first 1..N is scored (of all the heads pooled from several ``--probs`` files, in order);
- ``--with-crf``: the heads mixed with the default CRF tagger's out-of-fold marginals (weights
  ``CRF_WEIGHTS``; the CRF's P(B) splits adjacent spans), cached in ``CACHE/bench_crf_marginals.pkl``.

Two more decoding rules were measured this way and never won (commit e8fb98c): a peak (a run of
tokens kept only if one reaches 0.5-0.8) and copies (a span's text marked at its other whole-word
occurrences, as PTC annotates repeats about four times in five).

``--probs FILE`` keeps the heads' out-of-fold probabilities, so the decoding can be scored again
without training. This is the development bench of the shipped ``techniques_model = "mpnet"``
(``technique_frozen``, whose head trainer it calls): states read once with torch and cached, the
span head alone, ablations in minutes. ``--with-new`` adds the SemEval-2023 articles PTC lacks to the
head's training (the shipped choice; their states go to ``CACHE/bench_mpnet_states_new.pkl``). The
shipped model's own cross-validation, through the package's ONNX reader, is
``bench_techniques.py --model mpnet``.
Results: ``bench/results/technique_frozen.json`` (``--out`` for another file).
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import time
from pathlib import Path

import numpy as np

from narrascope.analysers.technique_frozen import LAYERS, FrozenParams, _train_head
from narrascope.analysers.technique_tagger import encode, inside_pieces, token_max
from narrascope.analysers.techniques import (
    Params,
    TechniqueModel,
    article_folds,
    decode_spans,
    label_repeated,
    load_corpora,
    mix_marginals,
    parse_docs,
)
from narrascope.evaluate import ptc as ptc_eval
from narrascope.finetune import load_tokenizer, training_modules
from narrascope.mpnet import mpnet_path

ROOT = Path(__file__).resolve().parent
CACHED_LAYERS = LAYERS  # the states cache holds the layers the shipped heads can read
WINDOW = 254  # word pieces per window (mpnet reads up to 512)
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
CRF_WEIGHTS = (0.25, 0.35, 0.5)  # --with-crf: weights of the CRF's P(inside) in a mix with the heads'
WHAT = "bench_technique_frozen"


def read_states(docs: list, cache: Path, name: str = "ptc") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Word-piece offsets and float16 hidden states (pieces x CACHED_LAYERS x 768) of each article."""
    path = cache / f"bench_mpnet_states_{name}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    torch, _, auto_model = training_modules(WHAT)
    src = mpnet_path(cache, WHAT)
    tok = load_tokenizer(src / "tokenizer.json")
    model = auto_model.from_pretrained(str(src)).eval()
    out = {}
    for k, d in enumerate(docs):
        enc = encode(tok, d.text, WINDOW)
        states = np.zeros((len(enc.ids), len(CACHED_LAYERS), 768), np.float16)
        for a, b in enc.windows:
            ids = torch.tensor([[0, *enc.ids[a:b], 2]])  # <s> ... </s>
            with torch.no_grad():
                hidden = model(input_ids=ids, output_hidden_states=True).hidden_states
            for j, layer in enumerate(CACHED_LAYERS):
                states[a:b, j] = hidden[layer][0, 1:-1].numpy()
        out[d.id] = (np.array(enc.offsets, np.int32).reshape(-1, 2), states)
        if k % 50 == 0:
            logging.info("states: %d / %d articles", k, len(docs))
    with path.open("wb") as fh:
        pickle.dump(out, fh, protocol=4)
    return out


def crf_marginals(docs: list, fold_of: dict[str, int], cache: Path) -> dict[str, list]:
    """Out-of-fold marginals of the default CRF tagger for every PTC article (the same folds; cached
    as ``CACHE/bench_crf_marginals.pkl``, about 2 minutes a fold)."""
    path = cache / "bench_crf_marginals.pkl"
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    parse_docs(docs, cache)
    out = {}
    for k in range(5):
        model = TechniqueModel(Params())
        model.fit_tagger([d for d in docs if fold_of[d.id] != k])
        out.update({d.id: model.marginals(d.doc) for d in docs if d.scheme == "ptc" and fold_of[d.id] == k})
        logging.info("CRF marginals: fold %d", k)
    with path.open("wb") as fh:
        pickle.dump(out, fh, protocol=4)
    return out


def train_head(chunks: list, epochs: int, seed: int, layers: list[int]):  # noqa: ANN201
    """The shipped trainer (``technique_frozen``) on cached states of all ``CACHED_LAYERS``, the head
    mixing ``layers``; returns P(inside) per word piece."""
    torch, _, _ = training_modules(WHAT)
    net = _train_head(chunks, FrozenParams(epochs=epochs, seed=seed), layers)
    return lambda xs: torch.sigmoid(net(torch.from_numpy(xs.astype(np.float32))[None]))[0].detach().numpy()


def span_vector(offs: np.ndarray, states: np.ndarray, start: int, end: int) -> np.ndarray:
    idx = np.where((offs[:, 1] > start) & (offs[:, 0] < end))[0]
    if not len(idx):
        return np.zeros(2 * states.shape[1] * 768, np.float32)
    x = states[idx].astype(np.float32)
    return np.concatenate([x.mean(0).ravel(), x[0].ravel()])


def span_proba(clf, scaler, offs: np.ndarray, states: np.ndarray):  # noqa: ANN001, ANN201
    """Class probabilities of character spans of one article, for ``label_repeated``."""
    return lambda spans: clf.predict_proba(scaler.transform(np.array([span_vector(offs, states, *s) for s in spans])))


def heads_and_classes(args, ptc: list, new: list, fold_of: dict, states: dict, chunks: dict):  # noqa: ANN001, ANN201
    """Per fold: ``args.seeds`` span heads (out-of-fold P(inside) per token of each PTC article) and
    the technique classifier on gold spans (pooled TC micro-F1); ``states`` holds the layers of
    ``args.layers``, ``chunks`` the training windows of all cached layers."""
    layers = [int(x) for x in args.layers.split(",")]
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    probs: list[dict[str, np.ndarray]] = [{} for _ in range(args.seeds)]  # seed -> article -> P(in) per token
    gold_tc, pred_tc, fit_s = [], [], []
    for k in range(5):
        t0 = time.time()
        train, test = [d for d in ptc if fold_of[d.id] != k], [d for d in ptc if fold_of[d.id] == k]
        extra = [d for d in new if fold_of[d.id] != k]
        for s in range(args.seeds):  # seed k for the first head, as this bench always trained it
            seed = k + 100 * (args.first_seed + s)
            p_in = train_head([c for d in train + extra for c in chunks[d.id]], args.epochs, seed, layers)
            for d in test:
                offs = states[d.id][0]
                probs[s][d.id] = token_max(d.doc, offs, np.concatenate([p_in(x) for x, _ in chunks[d.id]]))
        x_tr = np.array([span_vector(*states[d.id], s, e) for d in train for s, e, _ in d.spans])
        y_tr = [lab for d in train for _, _, lab in d.spans]
        scaler = StandardScaler().fit(x_tr)
        clf = LogisticRegression(C=args.tc_C, max_iter=300).fit(scaler.transform(x_tr), y_tr)
        fit_s.append(round(time.time() - t0))
        for d in test:
            gold = [ptc_eval.PTCSpan(d.id, s, e, lab) for s, e, lab in d.spans]
            pred_tc += label_repeated(gold, list(clf.classes_), span_proba(clf, scaler, *states[d.id]))
            gold_tc += gold
        logging.info("fold %d done (%d s)", k, fit_s[-1])
    return probs, round(ptc_eval.score_tc(gold_tc, pred_tc)["f1"], 4), fit_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data" / "raw"))
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "narrascope"))
    ap.add_argument(
        "--layers",
        default=",".join(map(str, FrozenParams().layers)),
        help=f"layers the span heads mix and the classifier reads, of {CACHED_LAYERS}",
    )
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--tc-C", type=float, default=0.05)
    ap.add_argument(
        "--with-new", action="store_true", help="the span head also learns from the SemEval-2023 articles PTC lacks"
    )
    ap.add_argument("--seeds", type=int, default=1, help="heads per fold (seeds); ensembles of 1..N are scored")
    ap.add_argument("--first-seed", type=int, default=0, help="the first head's seed index (seeds k + 100 * index)")
    ap.add_argument("--with-crf", action="store_true", help="also score mixes with the CRF's out-of-fold marginals")
    ap.add_argument(
        "--probs",
        default=None,
        help="pickle of the heads' out-of-fold token probabilities: written after training, read instead of "
        "training when it exists; several, comma-separated, pool the heads of earlier runs (e.g. other --layers)",
    )
    ap.add_argument("--out", default=str(ROOT / "results" / "technique_frozen.json"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    data, cache = Path(args.data), Path(args.cache)
    docs = load_corpora(data / "semeval2020_t11_ptc", data / "semeval2023_t3" / "en")
    fold_of = article_folds(docs, 5)
    ptc = [d for d in docs if d.scheme == "ptc"]
    new = [d for d in docs if d.scheme != "ptc" and d.id not in {p.id for p in ptc}] if args.with_new else []
    parse_docs(ptc, cache)
    gold_si = {
        k: [ptc_eval.PTCSpan(d.id, s, e, lab) for d in ptc if fold_of[d.id] == k for s, e, lab in d.spans]
        for k in range(5)
    }
    saved = [Path(f) for f in args.probs.split(",")] if args.probs else []
    if saved and all(f.exists() for f in saved):  # heads of earlier runs: score again without training
        runs = []
        for f in saved:
            with f.open("rb") as fh:
                runs.append(pickle.load(fh))
        probs = [head for heads, _, _ in runs for head in heads]  # the heads of all files, in order
        _, ptc_tc, fit_s = runs[0]  # TC and timings: the first file's
    else:
        if len(saved) > 1:
            raise SystemExit(
                f"--probs: {', '.join(str(f) for f in saved if not f.exists())} missing; "
                "several files are only read (train one run at a time)"
            )
        pick = [CACHED_LAYERS.index(int(x)) for x in args.layers.split(",")]
        full = read_states(ptc, cache)
        if new:
            full.update(read_states(new, cache, "new"))
        tok = load_tokenizer(mpnet_path(cache, WHAT) / "tokenizer.json")
        chunks, states = {}, {}
        for d in ptc + new:  # float16 windows of all layers (the head picks its own; batches cast them)
            offs, st = full.pop(d.id)
            y = inside_pieces(offs, d.spans)
            chunks[d.id] = [(st[a:b], y[a:b]) for a, b in encode(tok, d.text, WINDOW).windows]
            states[d.id] = (offs, st[:, pick])
        probs, ptc_tc, fit_s = heads_and_classes(args, ptc, new, fold_of, states, chunks)
        if saved:
            with saved[0].open("wb") as fh:
                pickle.dump((probs, ptc_tc, fit_s), fh, protocol=4)

    by_id = {d.id: d for d in ptc}
    crf = crf_marginals(docs, fold_of, cache) if args.with_crf else {}
    ensembles = {}
    for m, w in [(m, w) for m in range(1, len(probs) + 1) for w in ((0.0, *CRF_WEIGHTS) if crf else (0.0,))]:
        # the first m heads averaged; w: the CRF's weight in the mix (its P(B) splits spans)
        pred = {t: {k: [] for k in gold_si} for t in THRESHOLDS}  # threshold -> fold -> spans
        for i in probs[0]:
            d, p = by_id[i], np.mean([probs[s][i] for s in range(m)], 0)
            if w:
                marg = mix_marginals(crf[i], p, 1.0 - w)
            else:
                marg = [(s.start, np.stack([p[s.start : s.end], np.zeros(len(s))], 1)) for s in d.doc.sents]
            for t in THRESHOLDS:
                pred[t][fold_of[i]] += [ptc_eval.PTCSpan(i, s, e, "") for s, e, _ in decode_spans(d.doc, marg, t)]
        key = f"{m}" + (f"+crf{w}" if w else "")
        ensembles[key] = _crossfit(gold_si, pred)
        logging.info("%s: SI %s", key, ensembles[key]["ptc_si"])
    best = ensembles["1"]
    result = {
        "encoder": "all-mpnet-base-v2 (frozen)",
        "layers": args.layers,
        "heads_from": [f.name for f in saved] if len(saved) > 1 else None,  # runs pooled by --probs, in order
        "span_training_articles": "PTC + SemEval-2023 articles PTC lacks" if args.with_new else "PTC",
        "epochs": args.epochs,
        "tc_C": args.tc_C,
        "ptc_si": best["ptc_si"],
        "ptc_si_thresholds": best["thresholds"],
        "ptc_si_sweep": best["sweep"],
        "ptc_si_by_heads": {m: e["ptc_si"] for m, e in ensembles.items()} if len(ensembles) > 1 else None,
        "ptc_si_by_heads_detail": ensembles if len(ensembles) > 1 else None,
        "ptc_tc": ptc_tc,
        "fit_seconds_per_fold": fit_s,
    }
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


def _crossfit(gold_si: dict, pred: dict) -> dict:
    """Pooled SI at each threshold and the cross-fitted figure: fold k decoded at the threshold that
    scores best on the other folds' predictions."""
    all_gold = [g for k in gold_si for g in gold_si[k]]
    sweep = {str(t): round(_si(all_gold, [p for k in pred[t] for p in pred[t][k]]), 4) for t in pred}
    chosen, crossfit = {}, []
    for k in gold_si:
        others = [g for j in gold_si if j != k for g in gold_si[j]]
        chosen[k] = max(pred, key=lambda t: _si(others, [p for j in pred[t] if j != k for p in pred[t][j]]))
        crossfit += pred[chosen[k]][k]
    return {
        "ptc_si": ptc_eval.score_si(all_gold, crossfit),
        "thresholds": {str(k): t for k, t in chosen.items()},
        "per_fold": {str(k): round(_si(gold_si[k], pred[chosen[k]][k]), 4) for k in gold_si},
        "sweep": sweep,
    }


def _si(gold: list, pred: list) -> float:
    return ptc_eval.score_si(gold, pred)["f1"]


if __name__ == "__main__":
    main()
