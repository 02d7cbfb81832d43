"""Cut web boilerplate that ends up inside article text, keeping the article whole.

Two kinds of boilerplate: a *tail* (``Check Also``, ``Leave a Reply``, ``Related articles`` ...)
after which nothing belongs to the article, and *lines* inside the body (``READ MORE: ...``,
share prompts, ``Edited by RFA Staff.``) that are dropped one by one. Only whole lines that match
are removed, and a tail marker only counts in the second half of the text, so an article that
merely mentions "related articles" keeps its words.
"""

from __future__ import annotations

import re
import unicodedata

# A line that starts the page furniture after the article.
_TAIL = re.compile(
    r"^\s*(check also|leave a (reply|comment)|related (articles?|posts?|stories|news|content)|"
    r"you (may|might) (also )?(like|be interested in)|recommended( for you)?|more (from|on) this|"
    r"most (read|popular|viewed)( in [\w ]+)?|trending( now)?|comments?( \(\d+\))?|\d+ comments?|"
    r"about the author|tags?:|filed under:?|"
    r"sign up (for|to) our [\w ]*newsletter.*|you can also read|latest news|popular posts?)\s*:?\s*$",
    re.IGNORECASE,
)
# A line inside the body that is not article text.
_LINE = re.compile(
    r"^\s*(read more|read also|also read|see also|related|watch|listen|more)\s*[:|>»-].{0,200}$|"
    r"^\s*(READ MORE|READ ALSO)\b.{0,200}$|"
    r"^\s*(subscribe|join|follow) (to |us on |our )?.{0,60}\b(telegram|twitter|x|facebook|instagram|"
    r"youtube|newsletter|channel|whatsapp|vk|rumble|gab)\b.{0,80}$|"
    r"^\s*(share|tweet|email|print|comment)( (on|this|it|via)\b.{0,40})?\s*$|"
    r"^\s*(click here|tap here)\b.{0,120}$|"
    r"^\s*your email address will not be published.{0,80}$|"
    r"^\s*required fields are marked.{0,10}$|"
    r"^\s*edited by [\w .'-]{1,60}(staff|desk|team)?\.?\s*$|"
    r"^\s*(written|reported|translated) by [\w .'-]{1,60}\.?\s*$|"
    r"^\s*(photo|image|video)( credit)?:.{0,120}$|"
    r"^\s*(advertisement|sponsored( content)?|ad)\s*$|"
    r"^\s*copyright\b.{0,120}$|^\s*©.{0,120}$|"
    r"^\s*all rights reserved\.?\s*$|"
    r"^\s*note to readers:.{0,1000}$|"
    r"^\s*featured image (is )?(from|by|via|credit|courtesy)\b.{0,200}$|"
    r"^\s*the original source of this article is\b.{0,120}$|"
    r"^\s*[\w.'-]+( [\w.'-]+){0,3} is a (regular|frequent) contributor to [\w.'-]+( [\w.'-]+){0,3}\.?\s*$",
    re.IGNORECASE,
)
# A time stamp scraped onto the end of a headline: "Published 24 mins ago", "3M ago", "12 minutes ago", a clock time
# glued to the last word ("top court06:35"), "2:38 PM, Jun 14, 2024". Days and years ago only after "Published":
# "Chernobyl, 37 years ago" is a headline's own words.
_TRAILING_STAMP = re.compile(
    r"(?:\s+(?:(?:published|updated|posted)\s+)?\d{1,3}\s*(?:[smhd]|secs?|seconds?|mins?|minutes?|hrs?|hours?)\s+ago"
    r"|\s+(?:published|updated|posted)\s+\d{1,3}\s+(?:days?|weeks?|months?|years?)\s+ago"
    r"|(?<=[^\W\d_])\d{1,2}:\d{2}"
    r"|\s+\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?,?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
    r"\s+\d{1,2},?\s+\d{4})"
    r"\s*$",
    re.IGNORECASE,
)
# A link to another article set inside a paragraph: "... he told the news outlet. (Related: New York becomes first
# U.S. state to ban gas stoves.)". It stays in the text (the outlet's own words), but it is no sentence of the article.
_INLINE_LINK = re.compile(
    r"[(\[]\s*(?:related|read more|read also|also read|see also)\s*:[^()\[\]\n]{1,300}[)\]]", re.IGNORECASE
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


def normalise(text: str) -> str:
    """Unify newlines, drop control characters, NFC-normalise."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u00a0", " ")
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def is_boilerplate_line(line: str) -> bool:
    """Whether a whole line is page furniture inside a body ("READ MORE: ...", a share prompt, a photo credit)."""
    return _LINE.match(line) is not None


def inline_links(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The spans of links to other articles set inside a paragraph ("(Related: ...)") between ``start`` and ``end``."""
    return [m.span() for m in _INLINE_LINK.finditer(text, start, len(text) if end is None else end)]


def clean_body(body: str) -> str:
    """Remove boilerplate lines and the boilerplate tail; collapse runs of blank lines."""
    lines = normalise(body).split("\n")
    total = sum(len(x) + 1 for x in lines)
    kept: list[str] = []
    seen = 0
    for line in lines:
        if _TAIL.match(line) and seen >= total * 0.5:
            break
        seen += len(line) + 1
        if is_boilerplate_line(line):
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def without_trailing_stamp(line: str) -> str:
    """A headline line without the time stamp a scraper left at its end ("... Major Problem Published 24 mins ago")."""
    return _TRAILING_STAMP.sub("", line)


def clean_title(title: str) -> str:
    """A title on one line, without a scraped time stamp at its end."""
    return without_trailing_stamp(" ".join(normalise(title).split()))


def compose(title: str, body: str) -> str:
    """The cleaned text in the SemEval layout: title line, blank line, body."""
    title = clean_title(title)
    return f"{title}\n\n{body}" if title else body
