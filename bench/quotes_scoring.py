"""Scorer for quote attribution (who said what) against a span-level gold set.

Pure stdlib, no narrascope imports.  Gold format: see bench/gold/README.md.

    gold  = load_gold("bench/gold/quotes_t10_en_30.jsonl")
    pred  = {doc: [{"start": int, "end": int, "speaker": str|None, "kind": str}, ...]}
    texts = {doc: text}          # the exact strings the offsets refer to
    result = score(gold, pred, texts)

Matching
--------
* Span edges of gold and predicted quotes are first trimmed (using ``texts``)
  of whitespace, quotation marks and edge punctuation, so including or
  excluding the quote marks / final comma does not matter.
* A predicted quote matches a gold quote when their character overlap is at
  least 50% of the shorter of the two spans.  Matching is one-to-one, greedy
  by overlap size (largest first).
* A matched pair is *correct* when the predicted speaker also matches the gold
  speaker (see ``speaker_matches``).

Reported metrics (each a dict with tp/fp/fn/precision/recall/f1):
  overall         (speaker, quote) pairs, all kinds
  quoted          pairs, gold/pred kind in {direct, partial}
  indirect        pairs, gold/pred kind == indirect
  span, span_quoted, span_indirect   same, ignoring the speaker
For the per-group scores, recall counts gold quotes of the group and
precision counts predictions of the group.  A prediction's group is its
"kind"; if it has none, it is inferred from ``texts`` (a quotation mark
right before or after the span => quoted, otherwise indirect).
Docs present in ``gold`` but missing from ``pred`` count as having no
predictions; predictions for docs not in ``gold`` are ignored.
"""

from __future__ import annotations

import json
import re

QUOTE_CHARS = "\"'“”‘’„«»‹›`"
EDGE_CHARS = QUOTE_CHARS + ".,;:!? \t\r\n\u00a0"
QUOTED_KINDS = ("direct", "partial")

TITLES = {
    "president", "vice", "minister", "prime", "mr", "mrs", "ms", "miss", "dr",
    "prof", "professor", "sir", "dame", "lord", "senator", "sen", "rep",
    "representative", "gen", "general", "lt", "col", "colonel", "maj", "major",
    "adm", "admiral", "secretary", "chairman", "chairwoman", "chair",
    "director", "chief", "deputy", "former", "king", "queen", "prince",
    "governor", "gov", "mayor", "ambassador", "commissioner", "jr", "sr",
    "iii", "st",
}
STOPWORDS = {
    "the", "and", "for", "with", "from", "his", "her", "hers", "him", "she",
    "they", "them", "their", "its", "this", "that", "these", "those", "who",
    "which", "our", "one", "another", "also", "said", "says", "has", "had",
}
PRONOUNS = {"he", "she", "it", "him", "her", "his", "hers", "its", "they", "them",
            "their", "we", "i", "me", "you", "who", "another"}
UNNAMED_FORMS = {"", "unnamed", "unknown", "anonymous", "none", "null"}


# --------------------------------------------------------------------- io
def load_gold(path) -> dict[str, list[dict]]:
    """Read the JSONL gold file -> {doc: [quote dict, ...]}."""
    gold: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            gold[rec["doc"]] = list(rec.get("quotes", []))
    return gold


# ---------------------------------------------------------------- speakers
def _tokens(name: str | None) -> list[str]:
    if not name:
        return []
    s = name.lower().replace("’", "'")
    s = re.sub(r"'s\b", "", s)
    out: list[str] = []
    for tok in re.findall(r"[\w-]+", s):
        tok = tok.strip("-")
        parts = [tok] + (tok.split("-") if "-" in tok else [])
        for t in parts:
            if len(t) >= 3 and t not in TITLES and t not in STOPWORDS:
                out.append(t)
    return out


def _norm_full(name: str | None) -> str:
    s = (name or "").lower().replace("’", "'").strip()
    s = re.sub(r"^the\s+", "", s)
    return re.sub(r"\s+", " ", s)


def _last_name(name: str | None) -> str | None:
    """Last whole token (len >= 3, no titles/suffixes/stopwords) of a name."""
    s = (name or "").lower().replace("’", "'")
    s = re.sub(r"'s\b", "", s)
    whole = [t.strip("-") for t in re.findall(r"[\w-]+", s)]
    whole = [t for t in whole if len(t) >= 3 and t not in TITLES and t not in STOPWORDS]
    return whole[-1] if whole else None


def speaker_matches(pred_speaker: str | None, gold_quote: dict) -> bool:
    """Lenient, case-insensitive speaker comparison.

    True if the full (normalised) strings are equal (pronoun-only aliases such
    as "he"/"it" never count), or if any token (len >= 3,
    titles/stopwords removed) of the predicted speaker equals the gold
    speaker's last name or any token of a gold alias.  A gold speaker
    "UNNAMED" also accepts an empty/unknown predicted speaker.
    """
    gold_speaker = gold_quote.get("speaker")
    aliases = gold_quote.get("speaker_aliases") or []
    if _norm_full(gold_speaker) == "unnamed" and _norm_full(pred_speaker) in UNNAMED_FORMS:
        return True
    if not pred_speaker:
        return False
    pf = _norm_full(pred_speaker)
    if pf == _norm_full(gold_speaker) or any(
            pf == _norm_full(a) for a in aliases if _norm_full(a) not in PRONOUNS):
        return True
    keys = set()
    ln = _last_name(gold_speaker)
    if ln and ln != "unnamed":
        keys.add(ln)
        keys.update(ln.split("-"))
    for a in aliases:
        keys.update(_tokens(a))
    return any(t in keys for t in _tokens(pred_speaker))


# ------------------------------------------------------------------- spans
def _trim(text: str | None, start: int, end: int) -> tuple[int, int]:
    if text is None:
        return start, end
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    s, e = start, end
    while s < e and text[s] in EDGE_CHARS:
        s += 1
    while e > s and text[e - 1] in EDGE_CHARS:
        e -= 1
    return (s, e) if e > s else (start, end)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _infer_group(item: dict, text: str | None) -> str:
    kind = (item.get("kind") or "").lower()
    if kind in QUOTED_KINDS:
        return "quoted"
    if kind == "indirect":
        return "indirect"
    if text is not None:
        s, e = int(item["start"]), int(item["end"])
        i = s - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        j = e
        while j < len(text) and text[j] in " \t":
            j += 1
        if (i >= 0 and text[i] in QUOTE_CHARS) or (j < len(text) and text[j] in QUOTE_CHARS) \
                or (s < len(text) and text[s] in QUOTE_CHARS):
            return "quoted"
    return "indirect"


def match_doc(gold_q: list[dict], pred_q: list[dict], text: str | None = None
              ) -> list[tuple[int, int, int]]:
    """Greedy one-to-one matching; returns [(gold_idx, pred_idx, overlap)]."""
    gs = [_trim(text, int(g["start"]), int(g["end"])) for g in gold_q]
    ps = [_trim(text, int(p["start"]), int(p["end"])) for p in pred_q]
    cands = []
    for gi, g in enumerate(gs):
        for pi, p in enumerate(ps):
            ov = _overlap(g, p)
            shorter = min(g[1] - g[0], p[1] - p[0])
            if ov > 0 and shorter > 0 and ov >= 0.5 * shorter:
                cands.append((ov, gi, pi))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_g, used_p, out = set(), set(), []
    for ov, gi, pi in cands:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi, ov))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": n_pred - tp, "fn": n_gold - tp,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score(gold: dict[str, list[dict]], pred: dict[str, list[dict]],
          texts: dict[str, str] | None = None) -> dict:
    texts = texts or {}
    groups = ("all", "quoted", "indirect")
    n_gold = {g: 0 for g in groups}
    n_pred = {g: 0 for g in groups}
    # true positives counted on the gold side (recall) and pred side (precision)
    tp_pair_g = {g: 0 for g in groups}
    tp_pair_p = {g: 0 for g in groups}
    tp_span_g = {g: 0 for g in groups}
    tp_span_p = {g: 0 for g in groups}
    per_doc = {}
    for doc, gq in gold.items():
        pq = list(pred.get(doc, []) or [])
        text = texts.get(doc)
        ggrp = ["quoted" if (g.get("kind") in QUOTED_KINDS) else "indirect" for g in gq]
        pgrp = [_infer_group(p, text) for p in pq]
        for grp in ggrp:
            n_gold["all"] += 1
            n_gold[grp] += 1
        for grp in pgrp:
            n_pred["all"] += 1
            n_pred[grp] += 1
        pairs = match_doc(gq, pq, text)
        doc_tp = 0
        for gi, pi, _ in pairs:
            ok = speaker_matches(pq[pi].get("speaker"), gq[gi])
            counters = [(tp_span_g, tp_span_p)]
            if ok:
                counters.append((tp_pair_g, tp_pair_p))
            for side_g, side_p in counters:
                side_g["all"] += 1
                side_p["all"] += 1
                side_g[ggrp[gi]] += 1
                side_p[pgrp[pi]] += 1
            doc_tp += int(ok)
        per_doc[doc] = {"gold": len(gq), "pred": len(pq), "span_matched": len(pairs),
                        "correct": doc_tp}

    def prf_split(tp_g, tp_p, grp):
        # precision uses pred-side tp, recall uses gold-side tp (identical for "all")
        p = tp_p[grp] / n_pred[grp] if n_pred[grp] else 0.0
        r = tp_g[grp] / n_gold[grp] if n_gold[grp] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"tp_gold": tp_g[grp], "tp_pred": tp_p[grp],
                "n_gold": n_gold[grp], "n_pred": n_pred[grp],
                "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}

    return {
        "overall": _prf(tp_pair_g["all"], n_pred["all"], n_gold["all"]),
        "quoted": prf_split(tp_pair_g, tp_pair_p, "quoted"),
        "indirect": prf_split(tp_pair_g, tp_pair_p, "indirect"),
        "span": _prf(tp_span_g["all"], n_pred["all"], n_gold["all"]),
        "span_quoted": prf_split(tp_span_g, tp_span_p, "quoted"),
        "span_indirect": prf_split(tp_span_g, tp_span_p, "indirect"),
        "counts": {"docs": len(gold), "gold": n_gold["all"], "pred": n_pred["all"]},
        "per_doc": per_doc,
    }


# --------------------------------------------------------------- self-test
def _span(text: str, sub: str, occ: int = 0) -> tuple[int, int]:
    i = -1
    for _ in range(occ + 1):
        i = text.find(sub, i + 1)
        assert i >= 0, sub
    return i, i + len(sub)


if __name__ == "__main__":
    T = ('Minister Alice Varga said on Monday that the bridge will reopen soon. '
         '"We are ready," Varga told reporters. "Traffic resumes Friday." '
         'According to the Ministry of Roads, repairs cost little. '
         'Critics called the plan "a gamble".')
    doc = "toy.txt"
    s1 = _span(T, "the bridge will reopen soon")
    s2 = _span(T, "We are ready,")
    s3 = _span(T, "Traffic resumes Friday.")
    s4 = _span(T, "repairs cost little")
    s5 = _span(T, "a gamble")
    gold = {doc: [
        {"start": s1[0], "end": s1[1], "kind": "indirect", "speaker": "Alice Varga",
         "speaker_aliases": ["Varga", "Minister Alice Varga"], "cue": "said"},
        {"start": s2[0], "end": s2[1], "kind": "direct", "speaker": "Alice Varga",
         "speaker_aliases": ["Varga"], "cue": "told"},
        {"start": s3[0], "end": s3[1], "kind": "direct", "speaker": "Alice Varga",
         "speaker_aliases": ["Varga"], "cue": None},
        {"start": s4[0], "end": s4[1], "kind": "indirect", "speaker": "Ministry of Roads",
         "speaker_aliases": ["the Ministry of Roads", "Ministry"], "cue": "According to"},
        {"start": s5[0], "end": s5[1], "kind": "partial", "speaker": "UNNAMED",
         "speaker_aliases": ["Critics"], "cue": "called"},
    ], "empty.txt": []}
    texts = {doc: T, "empty.txt": "Nothing quoted here."}

    # speaker matching
    assert speaker_matches("Minister Varga", gold[doc][0])
    assert speaker_matches("alice varga", gold[doc][0])
    assert not speaker_matches("President Minister", gold[doc][0])
    assert not speaker_matches("the reporters", gold[doc][1])
    assert speaker_matches("roads ministry", gold[doc][3])
    assert speaker_matches(None, gold[doc][4]) and speaker_matches("critics", gold[doc][4])
    assert not speaker_matches(None, gold[doc][0])

    # perfect prediction (with quote marks included in the direct spans)
    perfect = {doc: [{"start": g["start"], "end": g["end"], "speaker": g["speaker"],
                      "kind": g["kind"]} for g in gold[doc]]}
    perfect[doc][1]["start"] -= 1
    perfect[doc][1]["end"] += 1
    r = score(gold, perfect, texts)
    assert r["overall"]["f1"] == 1.0 and r["span"]["f1"] == 1.0, r["overall"]

    # imperfect prediction: wrong speaker, one miss, one spurious, one sloppy span
    pred = {doc: [
        {"start": s1[0] - 10, "end": s1[1], "speaker": "Varga", "kind": "indirect"},  # ok (long overlap)
        {"start": s2[0], "end": s2[1], "speaker": "reporters", "kind": "direct"},    # wrong speaker
        {"start": s4[0], "end": s4[1], "speaker": "Ministry of Roads"},              # no kind -> inferred
        {"start": 0, "end": 8, "speaker": "Alice"},                                   # spurious
    ], "empty.txt": [{"start": 0, "end": 7, "speaker": "X", "kind": "direct"}]}
    r = score(gold, pred, texts)
    assert r["span"]["tp"] == 3 and r["overall"]["tp"] == 2, r
    assert r["counts"] == {"docs": 2, "gold": 5, "pred": 5}
    assert r["overall"]["precision"] == 0.4 and r["overall"]["recall"] == 0.4
    assert r["indirect"]["tp_gold"] == 2 and r["indirect"]["n_gold"] == 2
    assert r["quoted"]["tp_gold"] == 0 and r["quoted"]["n_gold"] == 3
    assert r["span_quoted"]["tp_gold"] == 1

    # overlap threshold: < 50% of the shorter span does not match
    half = {doc: [{"start": s1[0], "end": s1[0] + 5, "speaker": "Varga", "kind": "indirect"}]}
    assert score(gold, half, texts)["span"]["tp"] == 1       # fully inside -> 100% of shorter
    off = {doc: [{"start": s1[0] - 40 if s1[0] >= 40 else 0, "end": s1[0] + 3, "speaker": "Varga"}]}
    assert score(gold, off, texts)["span"]["tp"] == 0
    print("quotes_scoring self-test OK")
