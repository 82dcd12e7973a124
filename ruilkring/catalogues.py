"""Fill the English catalogue: English is the source language of every message.

``make messages`` runs this after ``makemessages``. Each English entry repeats
its msgid, so the translation check can tell a finished catalogue from a
forgotten message. Existing English wording (a deliberate rewording) is kept.
"""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main() -> None:
    po = polib.pofile(str(CATALOGUE), wrapwidth=79)
    for entry in po:
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            entry.msgstr = ""
            entry.msgstr_plural = {index: "" for index in entry.msgstr_plural}
        if entry.msgid_plural:
            if not all(entry.msgstr_plural.values()):
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        elif not entry.msgstr:
            entry.msgstr = entry.msgid
    po.save()


if __name__ == "__main__":
    main()
