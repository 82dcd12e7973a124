"""Find text in the templates that a person would see but no translator can reach.

    python -m ruilkring.template_strings

Visible text belongs inside ``{% translate %}`` or ``{% blocktranslate %}``, or
comes from a variable that is translated in Python. Everything else is a
message that stays in one language whatever the visitor chose.

Django's own template lexer splits a template into text, variables, tags and
comments. Translated regions, comments and tags are taken out; variables become
a placeholder character. The standard library's HTML parser then reads what is
left: the text between tags, except inside ``NOT_LANGUAGE_TAGS`` (scripts,
styles, code), and the attributes a person sees or hears: ``alt``, ``title``,
``placeholder``, ``aria-label``, ``aria-description``, the ``value`` of a submit
or button input and the ``content`` of ``<meta name="description">``. Text
without a letter (punctuation, arrows, digits, ``&nbsp;``) is fine, and so are
the words in ``ALLOWED_WORDS``.

The tags are removed as a whole so that markup assembled by tags, such as
``<{% if href %}a{% else %}button{% endif %}>``, still parses as one element.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = BASE_DIR / "templates"

# Stands for a variable or translated text: output that is not literal.
PLACEHOLDER = "\ue000"

# Literal words that are not a message to translate. Keep this list tiny: a
# word belongs here only when it reads the same in every language we offer.
ALLOWED_WORDS = frozenset(
    {
        "Ruilkring",  # the product's name
        "Nederlands",  # a language is offered under its own name, so a Dutch
        "English",  # reader can find English and the other way round
        "CSV",  # file formats and the API are named the same in Dutch and English
        "JSON",
        "API",
    }
)

# Blocks that base.html places inside an attribute rather than in the page, so
# their contents are markup (a CSS class), not text.
ATTRIBUTE_BLOCKS = frozenset({"main_class"})

# Templates that must not depend on translations, each with the reason. They
# carry both languages themselves.
UNTRANSLATED_TEMPLATES = {
    "templates/500.html": "Django renders it when anything may have failed, without a request "
    "context; it shows the message in Dutch and in English side by side",
}

# An id or class assembled from a variable, such as ``{{ field.id }}_error``.
IDENTIFIER_AROUND_VARIABLE = re.compile(rf"[\w-]*_{PLACEHOLDER}|{PLACEHOLDER}_[\w-]*")

TRANSLATED_REGIONS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
SKIPPED_REGIONS = {"comment": "endcomment"}

VISIBLE_ATTRIBUTES = frozenset({"alt", "title", "placeholder", "aria-label", "aria-description"})
BUTTON_INPUT_TYPES = frozenset({"submit", "button", "reset"})
# Elements whose content is not language: scripts and styles are not shown, and
# code, keyboard input and program output (an HTTP header, a command) must be
# typed exactly as written, whatever the visitor's language.
NOT_LANGUAGE_TAGS = frozenset({"script", "style", "code", "kbd", "samp"})


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def _is_language(text: str) -> bool:
    """Whether ``text`` holds a word that is not in the allow-list."""
    text = IDENTIFIER_AROUND_VARIABLE.sub(PLACEHOLDER, text)
    words = "".join(
        char if unicodedata.category(char).startswith("L") else " " for char in text
    ).split()
    return any(word not in ALLOWED_WORDS for word in words)


def _tag_words(token) -> list[str]:
    """The tag's name and arguments, for a ``{% ... %}`` token; else nothing."""
    return token.contents.split() if token.token_type == TokenType.BLOCK else []


def _literal_html(source: str) -> str:
    """The template with every tag, comment and translated region taken out.

    Variables and translated text become ``PLACEHOLDER``; every removed part
    keeps its line breaks, so line numbers still point into the template.
    """
    tokens = Lexer(source).tokenize()
    pieces: list[str] = []
    closing_tag: str | None = None  # ends the translated or skipped region we are in
    region_placeholder = ""
    attribute_block_depth = 0  # > 0 while inside one of ATTRIBUTE_BLOCKS
    for index, token in enumerate(tokens):
        following = tokens[index + 1].lineno if index + 1 < len(tokens) else token.lineno
        line_breaks = "\n" * (following - token.lineno)
        name, *arguments = _tag_words(token) or [""]
        if closing_tag is not None:
            if name == closing_tag:
                closing_tag = None
                pieces.append(region_placeholder)
            pieces.append(line_breaks)
            continue
        if attribute_block_depth:
            if name == "block":
                attribute_block_depth += 1
            elif name == "endblock":
                attribute_block_depth -= 1
            pieces.append(line_breaks)
            continue
        if token.token_type == TokenType.TEXT:
            pieces.append(token.contents)
        elif token.token_type == TokenType.VAR:
            pieces.append(PLACEHOLDER + line_breaks)
        elif token.token_type == TokenType.BLOCK:
            if name in TRANSLATED_REGIONS:
                closing_tag, region_placeholder = TRANSLATED_REGIONS[name], PLACEHOLDER
            elif name in SKIPPED_REGIONS:
                closing_tag, region_placeholder = SKIPPED_REGIONS[name], ""
            elif name == "block" and arguments[:1] and arguments[0] in ATTRIBUTE_BLOCKS:
                attribute_block_depth = 1
            elif name in {"translate", "trans"}:
                pieces.append(PLACEHOLDER)
            pieces.append(line_breaks)
        else:
            pieces.append(line_breaks)
    return "".join(pieces)


class _VisibleTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._not_language_depth = 0

    def _report(self, line: int, text: str) -> None:
        if _is_language(text):
            self.found.append((line, " ".join(text.replace(PLACEHOLDER, "…").split())))

    def handle_starttag(self, tag, attrs):
        self._check_attributes(tag, attrs)
        if tag in NOT_LANGUAGE_TAGS:
            self._not_language_depth += 1

    def handle_startendtag(self, tag, attrs):
        self._check_attributes(tag, attrs)

    def handle_endtag(self, tag):
        if tag in NOT_LANGUAGE_TAGS and self._not_language_depth:
            self._not_language_depth -= 1

    def handle_data(self, data):
        if self._not_language_depth:
            return
        line = self.getpos()[0]
        leading = data[: len(data) - len(data.lstrip())]
        self._report(line + leading.count("\n"), data)

    def _check_attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        visible = set(VISIBLE_ATTRIBUTES)
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES:
            visible.add("value")
        if tag == "meta" and (values.get("name") or "").lower() == "description":
            visible.add("content")
        line, _ = self.getpos()
        start_tag = self.get_starttag_text() or ""
        for name, value in attrs:
            if name in visible and value:
                where = re.search(rf"\s{re.escape(name)}\s*=", start_tag, re.IGNORECASE)
                self._report(line + start_tag[: where.start() if where else 0].count("\n"), value)


def check_template_source(source: str, path: str = "<template>") -> list[Finding]:
    """Every piece of visible literal text in one template's source."""
    parser = _VisibleTextParser()
    parser.feed(_literal_html(source))
    parser.close()
    return [Finding(path, line, text) for line, text in parser.found]


def _template_files(directory: Path) -> Iterator[Path]:
    return (path for path in sorted(directory.rglob("*")) if path.is_file())


def template_findings(directory: Path = TEMPLATES_DIR) -> list[Finding]:
    """Every piece of visible literal text in the templates under ``directory``."""
    findings: list[Finding] = []
    for path in _template_files(directory):
        name = path.relative_to(directory.parent).as_posix()
        if name in UNTRANSLATED_TEMPLATES:
            continue
        findings.extend(check_template_source(path.read_text(encoding="utf-8"), name))
    return findings


def main() -> int:
    findings = template_findings()
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} text(s) outside the translation functions", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
