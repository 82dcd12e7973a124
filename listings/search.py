"""Finding listings by what people type: Dutch words, with or without accents.

Each listing keeps a ``search_text``: its title and description in lower case
with accents taken off ("café" becomes "cafe"), written by the services. The
query gets the same treatment, so accents never matter, on any database.

On PostgreSQL the text is indexed as a Dutch full-text document (stemming:
"fietsen" finds "fiets"), every word also matches as a prefix ("tuin" finds
"tuinieren"), and a long word also matches
- words that share its start ("reparatie" finds "repareren": Dutch stemming
  keeps those two apart), and
- two words that it joins, the way Dutch makes compounds ("fietsreparatie"
  finds "Fiets repareren").
Elsewhere (SQLite) each word must appear somewhere in the text.
"""

from __future__ import annotations

import re
import unicodedata

SEARCH_CONFIG = "dutch"
MAX_WORDS = 8
MAX_WORD_LENGTH = 40
COMPOUND_MIN = 8  # a shorter word is not split or shortened
PART_MIN = 4  # neither half shorter than this
PART_PREFIX = 5  # the second half matches on its first letters: "repar" of "reparatie"
STEM_KEEP = 5  # a long word also matches on all but its last four letters, at least five
_WORD = re.compile(r"[a-z0-9]+")


def search_normalize(text: str) -> str:
    """Lower case, accents off: "Café Één" becomes "cafe een"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text_of(*parts: str) -> str:
    return search_normalize(" ".join(part for part in parts if part))


def search_words(query: str) -> list[str]:
    """The words of a query, normalised; at most ``MAX_WORDS``, each cut to a sane length."""
    return [word[:MAX_WORD_LENGTH] for word in _WORD.findall(search_normalize(query))][:MAX_WORDS]


def search_tsquery(words: list[str]) -> str:
    """A PostgreSQL tsquery (for ``to_tsquery``) that every word must match.

    The words come from ``search_words`` and hold only a-z and 0-9, so nothing
    in them can act as a tsquery operator.
    """
    clauses = []
    for word in words:
        options = [f"{word}:*"]
        if len(word) >= COMPOUND_MIN:
            options.append(f"{word[: max(STEM_KEEP, len(word) - 4)]}:*")
            options += [
                f"({word[:cut]}:* & {word[cut : cut + PART_PREFIX]}:*)"
                for cut in range(PART_MIN, len(word) - PART_MIN + 1)
            ]
        clauses.append("(" + " | ".join(options) + ")")
    return " & ".join(clauses)
