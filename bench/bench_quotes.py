"""Quote attribution benchmark: precision/recall of (speaker, quote) on 30 hand-annotated articles.

    python bench/bench_quotes.py [--data ../shared/data] [--show]

The gold set (bench/gold/quotes_t10_en_30.jsonl, offsets and speaker names only, see its README)
annotates SemEval-2025 T10 English training articles, read from ``--data``. Gold offsets refer to the
raw files; narrascope's offsets refer to its cleaned text, so each gold span is located in the
cleaned text by its own words. Gold annotates a reported clause that contains quoted words once, as
indirect; a predicted partial quote nested in a predicted indirect quote of the same speaker is
therefore scored as part of that indirect quote. Results go to bench/results/quotes.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from quotes_scoring import load_gold, score  # noqa: E402

import narrascope  # noqa: E402
from narrascope.ingest import read_text  # noqa: E402

RAW = "raw/semeval2025_t10/train_target_4_December_release/EN/raw-documents"


def locate(raw: str, clean: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the raw span's words sit in the cleaned text (nearest occurrence)."""
    piece = raw[start:end].strip()
    if not piece:
        return None
    hits, i = [], clean.find(piece)
    while i >= 0:
        hits.append(i)
        i = clean.find(piece, i + 1)
    if not hits:
        return None
    best = min(hits, key=lambda h: abs(h - start))
    return best, best + len(piece)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--gold", default=str(HERE / "gold" / "quotes_t10_en_30.jsonl"))
    ap.add_argument("--show", action="store_true", help="print each article's errors")
    args = ap.parse_args()
    gold_raw = load_gold(args.gold)
    pipeline = narrascope.Pipeline(["actors", "quotes"])
    gold, pred, texts = {}, {}, {}
    lost = 0
    t0 = time.perf_counter()
    for doc, quotes in gold_raw.items():
        raw = (Path(args.data) / RAW / doc).read_text(encoding="utf-8")
        art = pipeline(read_text(raw, name=doc))
        texts[doc] = art.text
        moved = []
        for q in quotes:
            span = locate(raw, art.text, q["start"], q["end"])
            if span is None:
                lost += 1  # kept as an empty span: a miss, so recall stays honest
                span = (0, 0)
            moved.append({**q, "start": span[0], "end": span[1]})
        gold[doc] = moved
        indirect = [q for q in art.quotes if q.kind == "indirect"]
        pred[doc] = [
            {"start": q.start, "end": q.end, "speaker": q.speaker, "kind": q.kind}
            for q in art.quotes
            if not (q.kind == "partial" and any(
                i.start <= q.start and q.end <= i.end and i.speaker_id == q.speaker_id for i in indirect))
        ]
        if args.show:
            print(f"== {doc}")
            for q in art.quotes:
                print(f"   P {q.kind:8} {str(q.speaker)[:28]:28} {art.text[q.start:q.end][:80]!r}")
            for q in moved:
                print(f"   G {q['kind']:8} {q['speaker'][:28]:28} {art.text[q['start']:q['end']][:80]!r}")
    elapsed = time.perf_counter() - t0
    result = score(gold, pred, texts)
    result["gold_spans_not_found_in_cleaned_text"] = lost
    result["articles"] = len(gold)
    result["seconds"] = round(elapsed, 2)
    out = HERE / "results" / "quotes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("| measure | precision | recall | F1 |\n|---|---|---|---|")
    for key in ("overall", "quoted", "indirect", "span", "span_quoted", "span_indirect"):
        r = result[key]
        print(f"| {key} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")
    print(f"\n{len(gold)} articles, {lost} gold spans not located in the cleaned text (counted as misses), "
          f"{elapsed:.1f}s")


if __name__ == "__main__":
    main()
