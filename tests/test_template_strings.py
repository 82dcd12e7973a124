"""Every text a person sees in a template goes through the translation functions,
so a visitor who chose English never meets a Dutch sentence, and the other way round."""

import pytest

from ruilkring.template_strings import (
    TEMPLATES_DIR,
    UNTRANSLATED_TEMPLATES,
    check_template_source,
    template_findings,
)


def _texts(source: str) -> list[str]:
    return [finding.text for finding in check_template_source(source)]


def test_no_template_shows_text_outside_the_translation_functions():
    findings = template_findings()
    assert findings == [], "wrap these in {% translate %} or {% blocktranslate %}:\n" + "\n".join(
        str(finding) for finding in findings
    )


def test_every_template_left_untranslated_on_purpose_exists():
    for name in UNTRANSLATED_TEMPLATES:
        assert (TEMPLATES_DIR.parent / name).is_file(), name


def test_visible_text_outside_translate_is_found_with_its_line():
    source = "{% load i18n %}\n<h1>{% translate 'Circles' %}</h1>\n<p>\n  Geen berichten\n</p>"
    [finding] = check_template_source(source, "templates/example.html")
    assert str(finding) == "templates/example.html:4: Geen berichten"


def test_text_next_to_a_variable_is_found():
    assert _texts("<td>{{ minutes }} minuten</td>") == ["… minuten"]


def test_text_inside_translate_and_blocktranslate_is_not_found():
    source = """{% load i18n %}
    <h1>{% translate "Circles" %}</h1>
    <p>{% trans "Members" %}</p>
    <p>{% blocktranslate with name=user.name %}Hello {{ name }}, welcome{% endblocktranslate %}</p>
    <p>{% blocktrans count counter=n %}{{ counter }} hour{% plural %}{{ counter }} hours
    {% endblocktrans %}</p>
    <p>{% blocktranslate trimmed %}
      A long sentence <a href="{{ url }}">with a link</a>.
    {% endblocktranslate %}</p>"""
    assert _texts(source) == []


@pytest.mark.parametrize(
    "source",
    [
        '<img src="a.png" alt="Foto van de kring">',
        '<a href="/" title="Naar het begin">→</a>',
        '<nav aria-label="Hoofdmenu"></nav>',
        '<p aria-description="Uitleg bij de tabel"></p>',
        '<input type="search" placeholder="Zoek een aanbod">',
        '<input type="submit" value="Opslaan">',
        '<input type="button" value="Annuleren">',
        '<meta name="description" content="Ruil hulp in je buurt">',
        '<a href="/" title="{% if open %}Open{% else %}{{ label }}{% endif %}">→</a>',
    ],
)
def test_literal_visible_attributes_are_found(source):
    assert len(check_template_source(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        '<img alt="{% translate \'Photo of the circle\' %}" src="{{ photo.url }}">',
        '<nav aria-label="{% translate "Main menu" %}"></nav>',
        '<input type="search" placeholder="{{ form.q.label }}">',
        '<input type="hidden" name="next" value="home">',
        '<input type="text" name="q" value="{{ query }}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<div class="rk-card" id="{{ field.id }}_helptext" data-kind="offer"></div>',
    ],
)
def test_translated_variable_or_invisible_attributes_are_not_found(source):
    assert _texts(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "<p>{{ member.display_name }}</p>",
        "<p>{{ amount|default:'—' }} · {{ when|date:'j F Y' }}</p>",
        "<p>&nbsp;&middot;&rarr; &larr; × • | : – — % 12 (3) [4]</p>",
        "<script>const label = 'Niet vertaald';</script>",
        "<style>.rk-card::after { content: 'Niet vertaald'; }</style>",
        "<p><code>Authorization: Bearer {{ secret }}</code> <kbd>make test</kbd></p>",
        "<!-- Uitleg voor ontwikkelaars -->",
        "{# Uitleg voor ontwikkelaars #}",
        "{% comment %}\n  Uitleg voor ontwikkelaars, <b>over</b> meer regels\n{% endcomment %}",
        '{% extends "base.html" %}{% block main_class %}rk-main--narrow{% endblock %}',
        "<!DOCTYPE html><p>Ruilkring</p>",
    ],
)
def test_variables_code_comments_and_punctuation_are_not_found(source):
    assert _texts(source) == []


def test_text_after_a_comment_block_is_still_checked():
    source = "{% comment %}Uitleg{% endcomment %}<p>Welkom</p>"
    assert _texts(source) == ["Welkom"]


def test_text_after_a_blocktranslate_region_is_still_checked():
    source = "{% blocktranslate %}Welcome{% endblocktranslate %} <b>terug</b>"
    assert _texts(source) == ["terug"]


def test_an_attribute_on_a_later_line_of_its_tag_is_reported_on_that_line():
    source = '<img data-alt="x"\n  src="a.png"\n  alt="Foto">'
    [finding] = check_template_source(source)
    assert (finding.line, finding.text) == (3, "Foto")
