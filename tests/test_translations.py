"""Dutch is the default language and English is complete: no message is left
untranslated or fuzzy, and the compiled catalogues match their sources."""

from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALES = ["nl", "en"]


def _catalogue(language: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    po = polib.pofile(str(_catalogue(language)))
    assert len(po) > 100, "the catalogue should hold the site's messages"
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", LOCALES)
def test_the_compiled_catalogue_matches_its_source(language):
    source = _catalogue(language)
    po = polib.pofile(str(source))
    mo = polib.mofile(str(source.with_suffix(".mo")))
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural for entry in mo}
    expected = {
        (entry.msgctxt, entry.msgid): entry.msgstr
        or {int(k): v for k, v in entry.msgstr_plural.items()}
        for entry in po.translated_entries()
    }
    missing = [key for key, value in expected.items() if compiled.get(key) != value]
    assert missing == [], "run `make messages` to compile the catalogues"
