"""The shared parse: sentences end at line breaks, unless a break cuts a sentence in two."""

from __future__ import annotations

from narrascope.document import Article
from narrascope.nlp import breaks_mid_sentence, parse


def test_line_breaks_end_sentences_unless_they_cut_one() -> None:
    text = (
        "Seoul Weighs Arms for Ukraine\n\nThe adviser suggests that Western support\n\nfor Kyiv may grow. "
        "Moscow said that\nSeoul would pay a price.\nLive Updates\nby our correspondent\n"
        "See https://example.org/a-long-link-that\nthe bot left."
    )
    art = parse([Article(text=text)])[0]
    assert [" ".join(text[s.start : s.end].split()) for s in art.sentences] == [
        "Seoul Weighs Arms for Ukraine",  # the title line always ends
        "The adviser suggests that Western support for Kyiv may grow.",  # the next line goes on in lower case
        "Moscow said that Seoul would pay a price.",  # no sentence ends on "that"
        "Live Updates",  # a heading: the next line is a byline
        "by our correspondent",
        "See https://example.org/a-long-link-that",  # a line with a link is left as it is
        "the bot left.",
    ]
    end = text.index("\n\nfor Kyiv")
    assert breaks_mid_sentence(text, end, end + 2)
    assert not breaks_mid_sentence(text, text.index("\n\nThe adviser"), text.index("The adviser"))
