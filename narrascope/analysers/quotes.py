"""Quotes: who said what, direct and indirect, with the speaker resolved to an actor.

Direct quotes are found from the quote marks (straight and curly), then attributed from the
shared parse: a speech verb right after the closing mark ("...," Zakharova insisted), before the
opening mark (Peskov ... saying, "..."; Medvedev wrote: "..."), or, for a quoted paragraph with no
attribution, the speaker of the quote just before it. A few quoted words inside the writer's own
sentence are a *partial* quote of the subject of the speech verb that governs them (slamming the
idea as "an openly hostile anti-Russian move"); quoted words with no such verb are scare quotes
("special military operation") and are not anybody's quote. Indirect quotes are the clausal
complements of speech verbs ("X warned that ...") and "according to X" phrases.
The speaker token becomes an actor through the actor layer's mentions (names, titles, pronouns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..document import Actor, Article, Quote
from ..nlp import ensure_parsed
from ..registry import analysers

VERSION = "0.1.0"

SPEECH_VERBS = {
    "say", "tell", "add", "warn", "claim", "insist", "argue", "state", "stress", "emphasize", "emphasise",
    "note", "announce", "declare", "explain", "write", "tweet", "post", "report", "suggest", "deny",
    "allege", "accuse", "threaten", "vow", "pledge", "promise", "assert", "reply", "respond", "answer",
    "ask", "urge", "call", "describe", "dub", "brand", "label", "term", "slam", "condemn", "criticize",
    "criticise", "praise", "admit", "acknowledge", "confirm", "reveal", "recall", "predict", "caution",
    "mention", "comment", "remark", "speculate", "infer", "clarify", "continue", "conclude", "observe",
    "concede", "contend", "maintain", "reiterate", "underline", "underscore", "highlight", "point",
    "believe", "think", "estimate", "forecast", "indicate", "inform", "testify", "complain", "lament",
    "boast", "joke", "quip", "charge", "counter", "retort", "demand", "proclaim", "signal",
    "express", "react", "refer", "dismiss", "blast", "decry", "denounce", "hail", "welcome", "agree",
    "quote", "cite", "posit", "recount", "relate", "muse", "shout", "scream", "chant", "exclaim",
}
# Verbs that report speech when they introduce a clause, but not a name for a quoted phrase.
CLAUSE_ONLY = {"believe", "think", "estimate", "indicate", "agree", "continue", "express", "react", "welcome", "hail"}
NAMING_VERBS = {"call", "describe", "dub", "brand", "label", "term", "refer", "slam", "speculate"}
UNRESOLVED = {"it", "this", "that", "they", "we", "i", "you", "there", "he", "she", "who", "which", "one", "another"}
OPENERS = {"“": "”", '"': '"', "‘": "’", "«": "»", "„": "“"}


@dataclass
class _Span:
    start: int  # content start (after the opening mark)
    end: int  # content end (before the closing mark)
    open_at: int
    close_at: int  # index of the closing mark, or the paragraph end when the quote runs on
    runs_on: bool = False


def find_quoted_spans(text: str) -> list[_Span]:
    """Quoted stretches of text, paragraph by paragraph (a quote running on into the next
    paragraph is closed at the paragraph end and marked ``runs_on``)."""
    spans: list[_Span] = []
    for para in re.finditer(r"[^\n]+", text):
        p0, ptext = para.start(), para.group()
        i = 0
        while i < len(ptext):
            ch = ptext[i]
            if ch in OPENERS and _can_open(ptext, i):
                closer = OPENERS[ch]
                j = _find_close(ptext, i + 1, closer)
                if j is None:
                    spans.append(_Span(p0 + i + 1, p0 + len(ptext), p0 + i, p0 + len(ptext), runs_on=True))
                    break
                if j > i + 1:
                    spans.append(_Span(p0 + i + 1, p0 + j, p0 + i, p0 + j))
                i = j + 1
                continue
            i += 1
    return [s for s in spans if text[s.start : s.end].strip()]


def _can_open(t: str, i: int) -> bool:
    if t[i] == "‘":
        return i == 0 or not t[i - 1].isalnum()
    if t[i] == '"':
        return i == 0 or not t[i - 1].isalnum() or t[i - 1] in "([{:,;—–- "
    return True


def _find_close(t: str, k: int, closer: str) -> int | None:
    while True:
        j = t.find(closer, k)
        if j < 0:
            return None
        if closer == "’" and j + 1 < len(t) and t[j + 1].isalpha():
            k = j + 1  # an apostrophe: "Korea’s"
            continue
        return j


@analysers.register("quotes")
class QuoteAnalyser:
    name = "quotes"
    version = VERSION
    requires: tuple[str, ...] = ("actors",)

    def __call__(self, article: Article) -> Article:
        ensure_parsed(article)
        article.quotes = _Finder(article).run()
        return article


class _Finder:
    def __init__(self, article: Article) -> None:
        self.art = article
        self.doc = article.doc
        self.text = article.text
        self.mentions = sorted(((m.start, m.end, a) for a in article.actors for m in a.mentions), key=lambda x: x[0])

    def run(self) -> list[Quote]:
        quotes: list[Quote] = []
        spans = find_quoted_spans(self.text)
        body = self.art.body_start
        last: Quote | None = None
        prev_para_end = -1
        for sp in spans:
            if sp.start < body:
                continue  # a headline's quote marks: no speaker in the text
            q = self._direct(sp)
            if q is None:
                # A quoted paragraph with no attribution continues the previous quote's speaker.
                same_para = last is not None and self._para_start(last.start) == self._para_start(sp.open_at)
                if last is not None and last.speaker and self._is_full(sp) and (
                    same_para or (self._is_full_paragraph(sp) and not self.text[prev_para_end : sp.open_at].strip())
                ):
                    q = Quote(sp.start, sp.end, self.text[sp.start : sp.end], "direct", last.speaker,
                              last.speaker_id, last.speaker_start, last.speaker_end, None, None, None, 0.8)
                elif self._is_full(sp):
                    q = Quote(sp.start, sp.end, self.text[sp.start : sp.end], "direct", None, score=0.3)
            if q is not None:
                quotes.append(q)
                if q.kind == "direct":
                    last = q
                    prev_para_end = self._para_end(sp.start)
        # A quote running on into the next paragraph shares the attribution found in either part.
        self._share_run_on(spans, quotes)
        quotes += self._indirect(quotes)
        quotes.sort(key=lambda q: q.start)
        return quotes

    # ---- direct and partial quotes -------------------------------------------------------
    def _direct(self, sp: _Span) -> Quote | None:
        text = self.text[sp.start : sp.end]
        full = self._is_full(sp)
        if full:
            found = self._attribution_after(sp) or self._attribution_before(sp)
            if found is None:
                return None
            verb, speaker = found
            return self._make(sp.start, sp.end, "direct", verb, speaker, 1.0)
        # Partial: a speech verb in the sentence must govern the quoted words.
        tok = self._token_at(sp.start)
        if tok is None:
            return None
        verb = self._governing_speech_verb(tok, naming=True)
        words = len(text.split())
        if verb is None or (words < 2 and verb.lemma_.lower() not in NAMING_VERBS):
            return None  # a scare quote
        speaker = self._subject_of(verb)
        if speaker is None:
            return None
        return self._make(sp.start, sp.end, "partial", verb, speaker, 0.8)

    def _is_full(self, sp: _Span) -> bool:
        """A quote that is a sentence or more, not a few words inside the writer's sentence."""
        content = self.text[sp.start : sp.end].strip()
        before = self.text[max(self._para_start(sp.open_at), self._sent_start(sp.open_at)) : sp.open_at].strip()
        ends_clause = bool(re.search(r"[.,!?…:;]$", content)) or sp.runs_on
        embedded = before != "" and not before.endswith((":", ",", "—", "–"))
        return len(content.split()) >= 4 and ends_clause and not embedded

    def _is_full_paragraph(self, sp: _Span) -> bool:
        para_start, para_end = self._para_start(sp.open_at), self._para_end(sp.open_at)
        return sp.open_at == para_start and (sp.close_at >= para_end - 2 or sp.runs_on)

    def _attribution_after(self, sp: _Span) -> tuple[Any, Any] | None:
        """'"...," Zakharova insisted' / '"...," said Chang' / '"...," she further emphasized'."""
        stop = self._region_end(sp.close_at + 1)
        toks = [t for t in self.doc if sp.close_at < t.idx < stop]
        for t in toks[:30]:
            if t.pos_ in ("VERB", "AUX") and t.lemma_.lower() in SPEECH_VERBS:
                subj = self._subject_of(t, within=(sp.close_at, stop))
                if subj is not None:
                    return t, subj
        return None

    def _attribution_before(self, sp: _Span) -> tuple[Any, Any] | None:
        """'Medvedev wrote on social media: "..."' / 'Peskov reacted ... saying, "..."' / 'In his words, "..."'."""
        start = max(self._para_start(sp.open_at), self._sent_start(sp.open_at))
        lead = self.text[start : sp.open_at].rstrip()
        if not lead or not lead.endswith((":", ",", "—")):
            return None
        toks = [t for t in self.doc if start <= t.idx < sp.open_at]
        words = re.search(r"\b(?:in|to quote)\s+(\w+(?:['’]s)?)\s+(?:own\s+)?words\s*[,:]?$", lead, re.IGNORECASE)
        if words:
            owner = next((t for t in toks if t.idx == start + words.start(1)), None)
            if owner is not None:
                return next(t for t in toks if t.lower_ == "words"), owner
        for t in reversed(toks):
            if t.pos_ in ("VERB", "AUX") and t.lemma_.lower() in SPEECH_VERBS:
                subj = self._subject_of(t)
                if subj is not None:
                    return t, subj
        return None

    def _share_run_on(self, spans: list[_Span], quotes: list[Quote]) -> None:
        by_start = {q.start: q for q in quotes}
        chain: list[Quote] = []
        for sp in spans:
            q = by_start.get(sp.start)
            if q is None or q.kind != "direct":
                chain = []
                continue
            chain.append(q)
            if not sp.runs_on:
                known = next((c for c in reversed(chain) if c.speaker and c.score >= 1.0), None)
                if known is not None:
                    for c in chain:
                        if c.speaker is None:
                            c.speaker, c.speaker_id = known.speaker, known.speaker_id
                            c.speaker_start, c.speaker_end, c.score = known.speaker_start, known.speaker_end, 0.8
                chain = []

    # ---- indirect quotes -----------------------------------------------------------------
    def _indirect(self, direct: list[Quote]) -> list[Quote]:
        inside = [(q.start, q.end) for q in direct if q.kind == "direct"]
        out: list[Quote] = []

        def in_direct(i: int) -> bool:
            return any(s <= i < e for s, e in inside)

        for tok in self.doc:
            if in_direct(tok.idx):
                continue
            lemma = tok.lemma_.lower()
            if lemma == "accord" and tok.lower_ == "according":
                q = self._according(tok)
            elif tok.pos_ in ("VERB", "AUX") and lemma in SPEECH_VERBS:
                q = self._reported(tok)
            else:
                q = None
            if q is None or any(q.start < e and s < q.end for s, e in inside):
                continue  # reported speech that wraps a direct quote is the quote's attribution
            if any(o.start == q.start and o.end == q.end for o in out):
                continue
            out.append(q)
        return out

    def _reported(self, verb: Any) -> Quote | None:
        comp = next((c for c in verb.children if c.dep_ == "ccomp"), None)
        if comp is None:
            return self._reported_parataxis(verb)
        sent = verb.sent
        toks = sorted((t for t in comp.subtree if sent.start <= t.i < sent.end), key=lambda t: t.i)
        if toks and toks[0].dep_ == "mark" and toks[0].lower_ in ("that", "if", "whether"):
            toks = toks[1:]
        # An embedded direct quote is attributed from the marks; keep the indirect clause out of it.
        if not toks or toks[0].text in OPENERS or toks[0].i < verb.i and verb.lemma_.lower() in CLAUSE_ONLY:
            return None
        if len(toks) < 3:
            return None
        speaker = self._subject_of(verb)
        if speaker is None:
            return None
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        while end > start and self.text[end - 1] in ".,;: ”\"’":
            end -= 1
        return self._make(start, end, "indirect", verb, speaker, 0.7)

    def _reported_parataxis(self, verb: Any) -> Quote | None:
        """'North Korea has supplied Russia ..., the United States has said.'"""
        if verb.dep_ not in ("parataxis", "advcl") or verb.head.i >= verb.i:
            return None
        subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is None or any(c.dep_ in ("dobj", "ccomp", "xcomp") for c in verb.children):
            return None
        sent = verb.sent
        left = min(t.i for t in subj.subtree)
        toks = [t for t in sent if t.i < left]
        while toks and toks[-1].is_punct:
            toks = toks[:-1]
        if len(toks) < 4:
            return None
        speaker = self._resolve(subj)
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        return self._make(start, end, "indirect", verb, speaker, 0.6)

    def _according(self, tok: Any) -> Quote | None:
        to = next((c for c in tok.children if c.lower_ == "to"), None)
        obj = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
        if to is None or obj is None:
            return None
        sent = tok.sent
        phrase = {t.i for t in tok.subtree}
        toks = [t for t in sent if t.i not in phrase and not (t.is_punct and (t.i + 1 in phrase or t.i - 1 in phrase))]
        while toks and toks[-1].is_punct:
            toks = toks[:-1]
        while toks and toks[0].is_punct:
            toks = toks[1:]
        if len(toks) < 4:
            return None
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        speaker = self._resolve(obj)
        q = self._make(start, end, "indirect", tok, speaker, 0.7)
        q.cue, q.cue_start, q.cue_end = "according to", tok.idx, to.idx + len(to.text)
        return q

    # ---- helpers -------------------------------------------------------------------------
    def _governing_speech_verb(self, tok: Any, naming: bool = False) -> Any | None:
        node, steps = tok, 0
        while node.head is not node and steps < 8:
            node = node.head
            steps += 1
            if node.pos_ in ("VERB", "AUX") and node.lemma_.lower() in SPEECH_VERBS and not (
                naming and node.lemma_.lower() in CLAUSE_ONLY
            ):
                return node
        return None

    def _subject_of(self, verb: Any, within: tuple[int, int] | None = None) -> Any | None:
        """The speaker token of a speech verb, climbing participles ('..., saying') and 'who'."""
        node, steps = verb, 0
        while steps < 5:
            subj = next((c for c in node.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None:
                if subj.lower_ in ("who", "which", "that") and node.dep_ == "relcl":
                    return node.head
                if within is None or within[0] <= subj.idx < within[1]:
                    return subj
                return None
            if node.dep_ in ("advcl", "xcomp", "conj", "acl", "pcomp", "relcl", "prep") and node.head is not node:
                if node.dep_ in ("acl", "relcl") and node.head.pos_ in ("PROPN", "NOUN", "PRON"):
                    return node.head if within is None or within[0] <= node.head.idx < within[1] else None
                node = node.head
                steps += 1
                continue
            break
        if within is not None:
            # Inverted or fragmentary attribution: the nearest name next to the verb.
            for t in list(verb.rights)[:3] + list(verb.lefts)[-3:]:
                if within[0] <= t.idx < within[1] and (t.pos_ in ("PROPN", "PRON") or self._actor_at(t)):
                    return t
        return None

    def _actor_at(self, tok: Any) -> tuple[Actor, int, int] | None:
        for s, e, actor in self.mentions:
            if s <= tok.idx < e:
                return actor, s, e
        return None

    def _resolve(self, tok: Any) -> tuple[str, str | None, int, int]:
        """Speaker token -> (name, actor id, mention start, mention end)."""
        hit = self._actor_at(tok)
        if hit is None:
            for child in tok.children:
                if child.dep_ in ("compound", "appos", "poss") or (child.dep_ == "conj"):
                    h = self._actor_at(child)
                    if h is not None and h[0].kind in ("PERSON", "ORG") and (
                        child.dep_ != "poss" or h[0].kind == "ORG"
                    ):
                        hit = h
                        break
        if hit is not None:
            actor, s, e = hit
            return actor.name, actor.id, s, e
        toks = sorted(tok.subtree, key=lambda t: t.i)
        toks = [t for t in toks if t.dep_ not in ("relcl", "punct", "appos", "acl") and not t.is_punct][:8]
        span_start = toks[0].idx if toks else tok.idx
        span_end = toks[-1].idx + len(toks[-1].text) if toks else tok.idx + len(tok.text)
        name = re.sub(r"^(the|a|an)\s+", "", self.text[span_start:span_end], flags=re.IGNORECASE)
        return name, None, span_start, span_end

    def _make(self, start: int, end: int, kind: str, verb: Any, speaker: Any, score: float) -> Quote:
        name, sid, s, e = speaker if isinstance(speaker, tuple) else self._resolve(speaker)
        speaker_name: str | None = name
        if sid is None and name.lower() in UNRESOLVED:
            speaker_name = None  # a pronoun we could not resolve names nobody
        cue = _cue_text(verb)
        return Quote(start, end, self.text[start:end], kind, speaker_name, sid, s, e, cue[0], cue[1], cue[2], score)

    def _token_at(self, offset: int) -> Any | None:
        for t in self.doc:
            if t.idx <= offset < t.idx + len(t.text) or t.idx >= offset:
                return t
        return None

    def _para_start(self, i: int) -> int:
        return self.text.rfind("\n", 0, i) + 1

    def _para_end(self, i: int) -> int:
        j = self.text.find("\n", i)
        return len(self.text) if j < 0 else j

    def _sent_start(self, i: int) -> int:
        starts = [s.start for s in self.art.sentences if s.start <= i]
        return starts[-1] if starts else 0

    def _region_end(self, i: int) -> int:
        """Where an attribution after a closing mark can end: sentence end, paragraph end, next quote."""
        ends = [self._para_end(i)]
        m = re.search(r"(?<!\b[A-Z])(?<!\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Sen|Rep|Gov))[.!?](\s|$)",
                      self.text[i:])
        if m:
            ends.append(i + m.end())
        return min(ends)


def _cue_text(verb: Any) -> tuple[str, int, int]:
    end_tok = verb
    for child in verb.children:
        if child.dep_ == "prt" and child.i == verb.i + 1:
            end_tok = child
    return verb.doc[verb.i : end_tok.i + 1].text, verb.idx, end_tok.idx + len(end_tok.text)
