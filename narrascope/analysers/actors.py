"""Actors: people, states, organisations and groups, each with one canonical name.

Built on the shared spaCy parse and the gazetteer. The small model's NER slips are repaired
with the document itself and the gazetteer: a capital tagged PERSON is the state it stands for
("Kyiv" -> Ukraine, unless it is a place: "in Kyiv"), a surname tagged NORP is the person named
in full elsewhere, a person's title glued into an ORG entity is split off, and a hyphenated
name cut short ("Yoon Suk" of "Yoon Suk-yeol") is extended. People get their titles and the
state they speak for ("Russian Foreign Ministry Spokeswoman" -> Russia). Pronouns and titles
("she", "the spokeswoman") become mentions of the person they most likely refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..document import Actor, Article, Mention
from ..gazetteer import Entry, Gazetteer, load_gazetteer, normalise_surface
from ..nlp import ensure_parsed
from ..registry import analysers

VERSION = "0.1.0"

TITLE_NOUNS = {
    "president", "minister", "premier", "spokesman", "spokeswoman", "spokesperson", "chairman",
    "chairwoman", "chair", "secretary", "adviser", "advisor", "ambassador", "envoy", "leader", "chief",
    "head", "director", "governor", "mayor", "senator", "commander", "chancellor", "king", "queen",
    "prince", "official", "diplomat", "lawmaker", "general", "pope", "representative", "spokesmen",
    "prosecutor", "judge", "ceo", "founder", "economist", "analyst", "expert", "professor", "scientist",
    "researcher", "journalist", "editor", "correspondent", "activist", "author", "deputy", "mp",
}
TITLE_WORDS = TITLE_NOUNS | {
    "prime", "foreign", "defence", "defense", "national", "security", "vice", "press", "deputy", "mr",
    "mrs", "ms", "dr", "gen", "gen.", "sen", "sen.", "rep", "rep.", "lt", "col", "former", "acting", "prof",
    "prof.", "dr.", "mr.", "mrs.", "ms.", "sir", "dame", "lord", "rev", "sgt", "capt", "maj", "cpl", "adm",
    "supreme", "top", "senior", "council", "ministry", "state", "affairs", "interior", "finance", "first",
}
FEMALE = {"spokeswoman", "chairwoman", "queen", "mrs", "ms", "mrs.", "ms.", "madam", "princess", "congresswoman"}
MALE = {"spokesman", "chairman", "king", "mr", "mr.", "prince", "congressman", "sir"}
PRONOUNS = {"he": "M", "him": "M", "his": "M", "she": "F", "her": "F", "hers": "F"}
ORG_PRONOUNS = {"it", "its"}
GOVERNMENT_NOUNS = {"government", "regime", "authorities", "administration", "leadership", "junta", "cabinet"}
LOCATIVE_PREPS = {"in", "at", "near", "around", "outside", "inside", "across", "throughout", "into", "within"}
MOTION_WORDS = {"visit", "trip", "travel", "arrive", "go", "fly", "return", "come", "flee", "journey", "tour"}
NER_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC"}


@dataclass
class _Cand:
    start: int
    end: int
    name: str
    kind: str
    form: str  # name | alias | capital | demonym | plural | body | title | pronoun | nominal
    state: str | None = None
    titles: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalise_surface(name)).strip("-")


@analysers.register("actors")
class ActorAnalyser:
    name = "actors"
    version = VERSION
    requires: tuple[str, ...] = ()

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self._gazetteer = gazetteer

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gazetteer is None:
            self._gazetteer = load_gazetteer()
        return self._gazetteer

    def __call__(self, article: Article) -> Article:
        ensure_parsed(article)
        article.actors = _build_actors(article, self.gazetteer)
        return article


def _strip_possessive(span: Any) -> Any:
    while len(span) > 1 and span[-1].text in ("'s", "’s", "'", "’"):
        span = span[:-1]
    return span


def _extend_hyphen(doc: Any, span: Any) -> Any:
    end = span.end
    glued = lambda i: not doc[i].whitespace_  # noqa: E731
    while end + 1 < len(doc) and doc[end].text in ("-", "‑") and glued(end - 1) and glued(end):
        end += 2
    return doc[span.start : end]


def _gazetteer_matches(doc: Any, gaz: Gazetteer) -> list[tuple[Any, Entry]]:
    """Longest gazetteer surfaces in the text, by n-gram lookup (no matcher to build at start-up)."""
    texts = [t.text for t in doc]
    lows = [t.lower().replace("’", "'").replace("‑", "-") for t in texts]
    spaces = [" " if t.whitespace_ else "" for t in doc]
    found = []
    n_tokens = len(doc)
    for i in range(n_tokens):
        limit = gaz.starts.get(lows[i])
        if not limit or lows[i] == "the":
            continue
        grams: list[tuple[int, str]] = []
        gram = ""
        for j in range(i, min(n_tokens, i + limit)):
            if "\n" in texts[j] or (j > i and texts[j].isspace()):
                break  # a mention never runs across a line break
            gram += (spaces[j - 1] if j > i else "") + lows[j]
            if texts[j] not in ("'s", "’s", "'", "’"):  # the possessive is not part of the name
                grams.append((j + 1, gram))
        for end, key in reversed(grams):
            entry = gaz.lookup_plain(key)
            if entry is None:
                continue
            text = doc[i:end].text
            if len(text) <= 4 and text.replace(".", "").isalpha():
                if not text.replace(".", "").isupper() and key not in gaz.lowercase:
                    if text.lower() == text or len(text.replace(".", "")) <= 3:
                        continue  # "us" is a pronoun, "US" a state; "who" is not the WHO
            elif not text[0].isupper() and key not in gaz.lowercase:
                continue
            found.append((doc[i:end], entry))
            break
    # Longest first, then leftmost; keep non-overlapping.
    found.sort(key=lambda m: (-(m[0].end - m[0].start), m[0].start))
    taken: set[int] = set()
    kept = []
    for span, entry in found:
        if any(i in taken for i in range(span.start, span.end)):
            continue
        taken.update(range(span.start, span.end))
        kept.append((span, entry))
    return sorted(kept, key=lambda m: m[0].start)


def _is_locative(span: Any) -> bool:
    root = span.root
    if root.dep_ != "pobj":
        return False
    prep = root.head
    word = prep.lower_
    if word in LOCATIVE_PREPS:
        return prep.head.lemma_.lower() not in GOVERNMENT_NOUNS
    if word in ("to", "from"):
        return prep.head.lemma_.lower() in MOTION_WORDS
    return False


def _trim_headline_names(article: Article, people: list[tuple[Any, int | None]]) -> list[tuple[Any, int | None]]:
    """Headlines are Title Case, so NER glues words to names there ('Fonda Heads To Canada'): a
    headline name not found in the body is cut to the tokens that name a person in the body."""
    body = article.body_start
    if not body:
        return people
    body_tokens = {_norm(t.text) for n, _ in people if n.start_char >= body for t in n}
    out = []
    for name, title_start in people:
        if name.start_char >= body or article.text.find(name.text, body) >= 0:
            out.append((name, title_start))
            continue
        keep = [t for t in name if _norm(t.text) in body_tokens]
        if keep:
            out.append((name.doc[keep[0].i : keep[-1].i + 1], None))
    return out


def _title_left(doc: Any, start: int, floor: int) -> int:
    """Extend a title leftwards over the noun phrase: '[Deputy Chairman of the] ...', '[Kremlin] spokesman'."""
    i = start
    while i > floor and i - start > -8:
        prev = doc[i - 1]
        if prev.text in (",", "(", ")", "—", "–", ":", ";", "“", '"') or prev.pos_ in ("VERB", "AUX", "ADP") and (
            prev.lower_ != "of"
        ):
            break
        if (prev.pos_ in ("PROPN", "ADJ", "PART", "DET") or prev.lower_ in ("of", "'s", "’s")
                or prev.lower_.strip(".") in TITLE_WORDS):
            i -= 1
            continue
        break
    while i < start and (doc[i].pos_ == "DET" or doc[i].lower_ in ("of", "'s", "’s")):
        i += 1
    return i


def _title_appos(doc: Any, name_span: Any) -> Any | None:
    """An apposition after the name: 'John Kirby, the spokesperson for ...,'."""
    for child in name_span.root.children:
        if child.dep_ == "appos" and child.i >= name_span.end and child.lower_ in TITLE_NOUNS:
            toks = [t for t in child.subtree if not t.is_punct or t.text in ("'s", "’s")]
            if toks and toks[-1].i - toks[0].i < 14:
                return doc[toks[0].i : toks[-1].i + 1]
    return None


def _person_name(span: Any) -> Any:
    """Drop leading title words glued into a PERSON entity ('Spokeswoman Maria Zakharova')."""
    i = span.start
    while i < span.end - 1 and span.doc[i].lower_.strip(".") in TITLE_WORDS:
        i += 1
    return span.doc[i : span.end]


def _build_actors(article: Article, gaz: Gazetteer) -> list[Actor]:
    doc = article.doc
    cands: list[_Cand] = []
    covered: set[int] = set()  # token indices already explained
    gmatches = _gazetteer_matches(doc, gaz)
    gtokens = {i for span, _ in gmatches for i in range(span.start, span.end)}

    # People first: NER PERSON spans, minus title words, extended over hyphens.
    # Each person is (name span, index where its title begins inside the entity or None).
    people: list[tuple[Any, int | None]] = []
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        span = _extend_hyphen(doc, _strip_possessive(ent))
        if all(i in gtokens for i in range(span.start, span.end)):
            continue  # a capital or state body the model took for a person ("Kyiv")
        name = _person_name(span)
        if not name.text[:1].isupper():
            continue
        people.append((name, span.start if name.start > span.start else None))
    people = _trim_headline_names(article, people)
    surnames = {_norm(n[-1].text) for n, _ in people} | {_norm(n[0].text) for n, _ in people if len(n) > 1}
    name_tokens = {_norm(t.text) for n, _ in people for t in n}

    # Entities of other labels that end with a known person's name: split the person off
    # ('the Russian National Security Council Dmitry Medvedev').
    for ent in doc.ents:
        if ent.label_ == "PERSON" or ent.label_ not in NER_LABELS:
            continue
        span = _extend_hyphen(doc, _strip_possessive(ent))
        tail = span.end
        while tail > span.start and doc[tail - 1].pos_ == "PROPN" and _norm(doc[tail - 1].text) in name_tokens:
            tail -= 1
        if tail < span.end:
            while (tail > span.start and doc[tail - 1].pos_ == "PROPN" and doc[tail - 1].text[:1].isupper()
                   and tail - 1 not in gtokens and doc[tail - 1].lower_ not in TITLE_WORDS):
                tail -= 1  # take the first name too: 'Dmitry Medvedev'
            people.append((doc[tail : span.end], span.start if tail > span.start else None))
    # Bare surnames the model missed or mislabelled.
    person_toks = {i for n, _ in people for i in range(n.start, n.end)}
    for tok in doc:
        if tok.i in person_toks or tok.i in gtokens or not tok.text[:1].isupper():
            continue
        if tok.pos_ in ("PROPN", "NOUN", "ADJ") and _norm(tok.text) in surnames:
            people.append((doc[tok.i : tok.i + 1], None))
            person_toks.add(tok.i)

    for name, title_start in people:
        titles = []
        left = _title_left(doc, title_start if title_start is not None else name.start, name.sent.start)
        if left < name.start:
            title = doc[left : name.start]
            if any(t.lower_.strip(".") in TITLE_WORDS for t in title):
                titles.append(re.sub(r"^(the|a|an)\s+", "", title.text, flags=re.IGNORECASE))
                covered.update(range(left, name.start))
        appos = _title_appos(doc, name)
        if appos is not None:
            titles.append(re.sub(r"^(the|a|an)\s+", "", appos.text, flags=re.IGNORECASE))
            covered.update(t.i for t in appos if t.i not in person_toks)
        cands.append(_Cand(name.start_char, name.end_char, name.text, "PERSON", "name", titles=titles))
        covered.update(range(name.start, name.end))

    # States, organisations and groups from the gazetteer.
    for span, entry in gmatches:
        if any(i in covered for i in range(span.start, span.end)):
            continue  # 'Russian Foreign Ministry' inside a person's title: an affiliation, not a mention
        if any(i in person_toks for i in range(span.start, span.end)):
            continue
        kind, name, form = entry.kind, entry.name, entry.form
        if form in ("capital", "demonym") and any(
            e.label_ in ("ORG", "FAC") and e.start <= span.start and span.end <= e.end and len(e) > len(span)
            and gaz.lookup(e.text) is None for e in doc.ents
        ):
            continue  # 'Moscow' in 'the Moscow Exchange': the exchange is the actor
        start, end = span.start_char, span.end_char
        if form == "capital" and entry.kind == "STATE":
            root = span.root
            if root.dep_ == "pobj" and root.head.lower_ == "in" and root.head.head.lemma_.lower() in GOVERNMENT_NOUNS:
                gov = root.head.head
                start, form = doc[gov.left_edge.i].idx, "nominal"  # 'the puppet regime in Kyiv'
                if doc[gov.left_edge.i].dep_ == "det":
                    start = doc[gov.left_edge.i].idx
            elif _is_locative(span):
                continue
        elif form == "plural":
            kind, name = "GROUP", _plural_name(span.text)
        cands.append(_Cand(start, end, name, kind, form, state=entry.state))
        covered.update(range(span.start, span.end))

    # Organisations the gazetteer does not know.
    for ent in doc.ents:
        if ent.label_ != "ORG" or any(i in covered or i in person_toks for i in range(ent.start, ent.end)):
            continue
        span = _strip_possessive(ent)
        if span[0].dep_ == "det" or span[0].lower_ == "the":
            span = span[1:]
        if not len(span) or not span.text[:1].isupper() or len(span.text.replace(".", "")) <= 2:
            continue  # two letters the gazetteer does not know ("EV", "BS") are not an organisation
        cands.append(_Cand(span.start_char, span.end_char, span.text, "ORG", "name"))

    actors = _merge(cands, gaz)
    _add_government_mentions(doc, actors)
    _add_title_and_pronoun_mentions(article, actors)
    for actor in actors:
        actor.mentions.sort(key=lambda m: m.start)
    actors.sort(key=lambda a: (-len(a.mentions), a.mentions[0].start if a.mentions else 0))
    return actors


def _plural_name(text: str) -> str:
    text = text.replace("’", "'")
    return text[:1].upper() + text[1:]


def _norm(text: str) -> str:
    return text.lower().replace("’", "'").strip(".'")


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\-‑]+", _norm(name)) if t]


def _merge(cands: list[_Cand], gaz: Gazetteer) -> list[Actor]:
    """Group candidate mentions into actors with canonical names."""
    persons = [c for c in cands if c.kind == "PERSON"]
    # Longest names are canonical; a shorter name whose tokens all occur in one longer name is that person.
    canon: list[tuple[str, list[str]]] = []
    for c in sorted(persons, key=lambda c: -len(_tokens(c.name))):
        toks = _tokens(c.name)
        owner = next((n for n, t in canon if set(toks) <= set(t)), None)
        if owner is None:
            canon.append((c.name, toks))
    by_id: dict[str, Actor] = {}
    for c in sorted(cands, key=lambda c: c.start):
        if c.kind == "PERSON":
            names = set(_tokens(c.name))
            owners = [n for n, t in canon if names <= set(t)]
            name = owners[0] if owners else c.name
        else:
            name = c.name
        aid = slug(name)
        actor = by_id.get(aid)
        if actor is None:
            actor = by_id[aid] = Actor(id=aid, name=name, kind=c.kind)
        for t in c.titles:
            if t not in actor.titles:
                actor.titles.append(t)
        if c.state and not actor.affiliation:
            actor.affiliation = c.state
        actor.mentions.append(Mention(c.start, c.end, "", aid, kind="name" if c.form in ("name", "alias") else c.form))
    for actor in by_id.values():
        if actor.kind == "PERSON" and not actor.affiliation:
            actor.affiliation = _affiliation(actor.titles, gaz)
    return list(by_id.values())


def _affiliation(titles: list[str], gaz: Gazetteer) -> str | None:
    """The state a title names first ('spokesperson for U.S. President ...' -> United States)."""
    fallback = None
    for title in titles:
        words = re.findall(r"[\w.'’-]+", title)
        for i in range(len(words)):
            for n in (5, 4, 3, 2, 1):
                entry = gaz.lookup(" ".join(words[i : i + n])) if i + n <= len(words) else None
                if entry is None:
                    continue
                if entry.kind == "STATE" or entry.state:
                    return entry.name if entry.kind == "STATE" else entry.state
                fallback = fallback or entry.name
                break
    return fallback


def _add_government_mentions(doc: Any, actors: list[Actor]) -> None:
    """'Yoon's government' is the state Yoon leads."""
    by_mention = {(m.start, m.end): a for a in actors for m in a.mentions}
    states = {a.name: a for a in actors if a.kind == "STATE"}
    for tok in doc:
        if tok.lemma_.lower() not in GOVERNMENT_NOUNS:
            continue
        for child in tok.children:
            if child.dep_ != "poss":
                continue
            owner = next((a for (s, e), a in by_mention.items() if s <= child.idx < e), None)
            if owner is None or owner.kind != "PERSON" or not owner.affiliation:
                continue
            state = states.get(owner.affiliation)
            if state is None:
                state = Actor(id=slug(owner.affiliation), name=owner.affiliation, kind="STATE")
                actors.append(state)
                states[state.name] = state
            start = doc[child.left_edge.i].idx
            state.mentions.append(Mention(start, tok.idx + len(tok.text), "", state.id, kind="nominal"))


def _gender(actor: Actor) -> str | None:
    words = {w.lower().strip(".") for t in actor.titles for w in t.split()}
    if words & FEMALE:
        return "F"
    if words & MALE:
        return "M"
    return None


def _add_title_and_pronoun_mentions(article: Article, actors: list[Actor]) -> None:
    doc = article.doc
    people = [a for a in actors if a.kind == "PERSON"]
    named = sorted((m.start, a) for a in people for m in a.mentions)
    bodies = sorted((m.start, a) for a in actors if a.kind in ("ORG", "STATE") for m in a.mentions if m.kind == "name")
    taken = {(m.start, m.end) for a in actors for m in a.mentions}
    genders = {a.id: _gender(a) for a in people}
    added: list[tuple[int, int, Actor, str]] = []
    for tok in doc:
        low = tok.lower_
        if low in ORG_PRONOUNS and tok.dep_ in ("nsubj", "nsubjpass") and tok.head.pos_ == "VERB":
            # 'it said' / 'it announced': the organisation or state last named, subjects first.
            actor = _antecedent(doc, tok, bodies, {}, "N", sentences_back=1)
            if actor is not None:
                added.append((tok.idx, tok.idx + len(tok.text), actor, "pronoun"))
        elif low in PRONOUNS and tok.pos_ == "PRON" and people:
            actor = _antecedent(doc, tok, named, genders, PRONOUNS[low])
            if actor is not None:
                added.append((tok.idx, tok.idx + len(tok.text), actor, "pronoun"))
                named.append((tok.idx, actor))
                named.sort(key=lambda x: x[0])
        elif low in TITLE_NOUNS and tok.pos_ == "NOUN" and tok.i > 0:
            left = doc[tok.left_edge.i : tok.i + 1]
            if left[0].lower_ not in ("the", "this") or any((tok.idx, tok.idx + len(tok.text)) == k for k in taken):
                continue
            holders = [a for a in people if any(low in t.lower() for t in a.titles)]
            prior = [(s, a) for s, a in named if s < tok.idx and a in holders]
            if prior:
                actor = prior[-1][1]
                added.append((left.start_char, tok.idx + len(tok.text), actor, "title"))
    for start, end, actor, kind in added:
        if (start, end) not in taken:
            actor.mentions.append(Mention(start, end, "", actor.id, kind=kind))
            taken.add((start, end))
    for actor in actors:
        for m in actor.mentions:
            m.text = article.text[m.start : m.end]


def _antecedent(doc: Any, tok: Any, named: list[tuple[int, Actor]], genders: dict[str, str | None],
                gender: str, sentences_back: int = 3) -> Actor | None:
    """The antecedent of 'he'/'she': the sentence so far, then up to three sentences back; in each,
    the first compatible subject, else the first compatible person mentioned (Hobbs-style)."""
    sents = [s for s in doc.sents if s.start_char <= tok.idx]
    for back, sent in enumerate(reversed(sents[-1 - sentences_back :])):
        limit = tok.idx if back == 0 else sent.end_char
        here = [(s, a) for s, a in named if sent.start_char <= s < limit and genders.get(a.id) in (None, gender)]
        if not here:
            continue
        for s, a in here:
            span = doc.char_span(s, s + 1, alignment_mode="expand")
            if span is not None and span.root.dep_ in ("nsubj", "nsubjpass"):
                return a
        return here[-1][1] if back == 0 else here[0][1]
    return None
