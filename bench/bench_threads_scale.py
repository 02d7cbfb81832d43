"""Scale of threading: time and peak memory for 10k .. 100k synthetic articles, and how they grow.
Writes bench/results/threads_scale.json.

    python bench/bench_threads_scale.py [--sizes 10000,30000,100000]

The corpus is synthetic (no text of any data set): events belong to topics (storylines); an article's
vector is its event's centre plus noise, in an anisotropic space like a sentence encoder's (unrelated
articles have cosine ~0.2, same-topic ~0.5, same-event ~0.8); its text is ~250 words drawn from its event's,
its topic's and a general vocabulary; 5% of articles are wire copies of an earlier one with a few words
changed. Articles arrive one at a time in publication order and go through ``Threader.add`` (MinHash,
LSH, HNSW query, scoring, insertion): embedding is excluded (it is linear, ~300 sentences/s on 2 cores).
Each size runs in a fresh process so peak RSS is its own. Quality against the synthetic truth is reported
too (pairwise same-event F1, duplicate precision/recall), as a sanity check rather than a benchmark.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DIM = 384


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _mix(base: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return _unit(base + noise * _unit(rng.standard_normal(base.shape)))


def generate(n: int, seed: int = 0) -> dict[str, Any]:
    """Event plan for ``n`` articles: per article its vector, event, topic, day, copy-of index."""
    rng = np.random.default_rng(seed)
    n_events = max(1, n // 5)
    n_topics = max(1, n_events // 8)
    common = _unit(rng.standard_normal(DIM))
    topics = _unit(0.5 * common + _unit(rng.standard_normal((n_topics, DIM))))
    ev_topic = rng.integers(0, n_topics, n_events)
    ev_centre = _mix(topics[ev_topic], 0.78, rng)
    ev_day = rng.integers(0, 730, n_events)
    sizes = 1 + rng.poisson(4, n_events)
    art_event = np.repeat(np.arange(n_events), sizes)[:n]
    if len(art_event) < n:
        art_event = np.concatenate([art_event, rng.integers(0, n_events, n - len(art_event))])
    day = ev_day[art_event] + rng.integers(0, 4, n)
    order = np.lexsort((rng.random(n), day))  # arrival in publication order
    art_event, day = art_event[order], day[order]
    vectors = _mix(ev_centre[art_event], 0.5, rng).astype(np.float32)
    copy_of = np.full(n, -1)
    last_in_event: dict[int, int] = {}
    for i, e in enumerate(art_event.tolist()):
        if e in last_in_event and rng.random() < 0.05:
            copy_of[i] = last_in_event[e]
            vectors[i] = _mix(vectors[copy_of[i]], 0.05, rng)
        else:
            last_in_event[e] = i
    return {
        "vectors": vectors,
        "event": art_event,
        "topic": ev_topic[art_event],
        "day": day,
        "copy_of": copy_of,
        "seed": seed,
    }


def _texts(plan: dict[str, Any], seed: int) -> Any:
    """Yield (text, entities) per article, lazily, so the corpus text is never all in memory."""
    rng = np.random.default_rng(seed + 1)
    general = np.array([f"w{_letters(i)}" for i in range(20000)])
    zipf = 1.0 / np.arange(1, 20001)
    zipf /= zipf.sum()
    made: dict[int, str] = {}
    for i in range(len(plan["event"])):
        e, t = int(plan["event"][i]), int(plan["topic"][i])
        src = int(plan["copy_of"][i])
        if src >= 0:
            words = made[src].split()
            for k in rng.integers(0, len(words), 3):
                words[k] = f"edit{_letters(int(rng.integers(1000)))}"
            text = " ".join(words)
        else:
            kinds = rng.random(250)
            event_words = rng.integers(0, 40, 250)
            topic_words = rng.integers(0, 100, 250)
            general_words = rng.choice(20000, 250, p=zipf)
            text = " ".join(
                f"e{_letters(e)}q{_letters(int(event_words[k]))}"
                if kinds[k] < 0.3
                else f"t{_letters(t)}q{_letters(int(topic_words[k]))}"
                if kinds[k] < 0.5
                else str(general[general_words[k]])
                for k in range(250)
            )
        made[i] = text
        if len(made) > 5000:  # copies come from recent articles of the same event
            made.pop(next(iter(made)))
        ents = frozenset({f"name{t}a", f"name{t}b", f"name{t}c", f"ev{e}"})
        yield text, ents


def _letters(n: int) -> str:
    """A number spelt in letters, so each synthetic token is one word for the tokenizer."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += chr(97 + r)
        if n == 0:
            return out


def run_one(n: int, seed: int) -> dict[str, Any]:
    """Thread ``n`` synthetic articles in this process; returns timings, memory and quality."""
    import datetime as dt
    import resource

    from narrascope.document import Article
    from narrascope.stories.threading import Threader

    t0 = time.perf_counter()
    plan = generate(n, seed)
    t_gen = time.perf_counter() - t0
    base = dt.date(2023, 1, 1).toordinal()
    threader = Threader()
    t_thread = 0.0
    events, dups = [], []
    checkpoints = {}
    for i, (text, ents) in enumerate(_texts(plan, seed)):
        art = Article(
            text=text, title="", published=dt.date.fromordinal(base + int(plan["day"][i])).isoformat()
        )
        s = time.perf_counter()
        a = threader.add(art, plan["vectors"][i], entities=ents)
        t_thread += time.perf_counter() - s
        events.append(a.event_id)
        dups.append(a.duplicate_of is not None)
        if (i + 1) % max(1, n // 10) == 0:
            checkpoints[i + 1] = round(t_thread, 2)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "articles": n,
        "thread_seconds": round(t_thread, 2),
        "ms_per_article": round(1000 * t_thread / n, 3),
        "generate_seconds": round(t_gen, 1),
        "peak_rss_mb": round(rss_mb, 1),
        "cumulative_seconds": checkpoints,
        "index": "hnswlib" if threader.index.hnsw is not None else "exact",
        "quality": _quality(np.array(events), plan, np.array(dups)),
    }


def _quality(pred: np.ndarray, plan: dict[str, Any], dups: np.ndarray) -> dict[str, float]:
    """Pairwise same-event precision/recall from contingency counts (no pair enumeration)."""
    from collections import Counter

    gold = plan["event"]

    def pairs(counts: Any) -> int:
        return sum(c * (c - 1) // 2 for c in counts)

    both = pairs(Counter(zip(pred.tolist(), gold.tolist(), strict=True)).values())
    p_pairs, g_pairs = pairs(Counter(pred.tolist()).values()), pairs(Counter(gold.tolist()).values())
    prec, rec = both / max(1, p_pairs), both / max(1, g_pairs)
    true_dup = plan["copy_of"] >= 0
    tp = int((dups & true_dup).sum())
    return {
        "pairwise_precision": round(prec, 4),
        "pairwise_recall": round(rec, 4),
        "pairwise_f1": round(2 * prec * rec / max(1e-9, prec + rec), 4),
        "duplicate_precision": round(tp / max(1, int(dups.sum())), 4),
        "duplicate_recall": round(tp / max(1, int(true_dup.sum())), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--out", default=str(HERE / "results" / "threads_scale.json"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed)))
        return
    runs = []
    for n in [int(x) for x in args.sizes.split(",")]:
        res = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), file=sys.stderr)
    small, large = runs[0], runs[-1]
    factor = large["articles"] / small["articles"]
    result = {
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "runs": runs,
        "growth": {
            "articles_x": factor,
            "time_x": round(large["thread_seconds"] / small["thread_seconds"], 2),
            "memory_x": round(large["peak_rss_mb"] / small["peak_rss_mb"], 2),
        },
        "note": "time_x close to articles_x means linear growth; all-pairs would be articles_x squared",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if __name__ == "__main__":
    main()
