"""The translation catalogues: complete, faithful to their placeholders, and in step with the code."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR) / "locale"
# Django's language code → the catalogue's folder.
CATALOGUES = {
    code: LOCALE / code.replace("-hans", "_Hans") / "LC_MESSAGES" / "django.po"
    for code, _name in settings.LANGUAGES
    if code != settings.LANGUAGE_CODE
}
# The folders that hold translatable strings (`make messages` reads the same).
SOURCES = ["actionplan", "audit", "outbox", "portal", "sso", "steering", "templates", "webhooks"]
# A Python format placeholder, named or not: %(count)d, %s, %.1f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


# Codes, standards and signs that every language writes the same way.
SAME_EVERYWHERE = re.compile(r"^[\W\d_]*$|^(?:[A-Z0-9][A-Za-z0-9.\-/]*|ISO 3166-1 alpha-\d)$")
# Words that are spelt the same in English and in the language.
SAME_WORD = {
    "fr": {
        "code", "parties", "document", "version", "version %(version)s", "description", "budget", "source",
        "note", "organisation", "arguments", "continent", "date", "signature",
    },
    "es": {"no", "error"},
}  # fmt: skip


def entries(code):
    return [entry for entry in polib.pofile(str(CATALOGUES[code])) if not entry.obsolete]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) - {"%%"}


@pytest.mark.parametrize("code", CATALOGUES)
def test_every_entry_of_the_catalogue_is_translated_and_none_is_fuzzy(code):
    missing = [entry.msgid for entry in entries(code) if not entry.translated()]
    fuzzy = [entry.msgid for entry in entries(code) if entry.fuzzy]
    assert (missing, fuzzy) == ([], []), f"{code}: {len(missing)} untranslated, {len(fuzzy)} fuzzy"


@pytest.mark.parametrize("code", CATALOGUES)
def test_no_translation_is_the_english_copied_across(code):
    copied = [
        entry.msgid
        for entry in entries(code)
        if not entry.msgid_plural
        and entry.msgstr == entry.msgid
        and not SAME_EVERYWHERE.match(entry.msgid)
        and entry.msgid not in SAME_WORD.get(code, set())
    ]
    assert copied == [], f"{code}: left in English: {copied}"


@pytest.mark.parametrize("code", CATALOGUES)
def test_translations_keep_the_placeholders_of_their_source(code):
    wrong = []
    for entry in entries(code):
        if "python-format" not in entry.flags:
            continue
        if not entry.msgid_plural:
            if placeholders(entry.msgstr) != placeholders(entry.msgid):
                wrong.append((entry.msgid, entry.msgstr))
            continue
        source = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        last = max(entry.msgstr_plural)
        for index, form in entry.msgstr_plural.items():
            # A form for none, one or two may say its number in words (Arabic: "قيمتان"), dropping the count;
            # the last form, for any other number, keeps every placeholder.
            dropped = source - placeholders(form)
            if not placeholders(form) <= source or len(dropped) > (0 if index == last else 1):
                wrong.append((entry.msgid, form))
    assert wrong == [], f"{code}: placeholders differ: {wrong}"


@pytest.mark.parametrize("code", CATALOGUES)
def test_plural_entries_fill_every_form_of_the_language(code):
    catalogue = polib.pofile(str(CATALOGUES[code]))
    forms = int(re.search(r"nplurals=(\d+)", catalogue.metadata["Plural-Forms"]).group(1))
    short = [entry.msgid for entry in entries(code) if entry.msgid_plural and len(entry.msgstr_plural) != forms]
    assert short == []


@pytest.mark.parametrize("code", CATALOGUES)
def test_the_catalogue_names_its_language(code):
    metadata = polib.pofile(str(CATALOGUES[code])).metadata
    assert metadata["Language"] == CATALOGUES[code].parent.parent.name
    assert metadata["Content-Type"] == "text/plain; charset=UTF-8"


def test_makemessages_finds_no_string_the_catalogues_do_not_translate(tmp_path, settings, monkeypatch):
    """Extract the strings of the code now, as `make messages` does, and compare with every catalogue.

    The extraction runs on a copy of the code, so that nothing it writes touches the catalogues.
    """
    source = Path(settings.BASE_DIR)
    for folder in SOURCES:
        shutil.copytree(source / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(LOCALE / "fr", tmp_path / "locale" / "fr")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["fr"], keep_pot=True, verbosity=0)
    extracted = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(tmp_path / "locale" / "django.pot"))}
    assert len(extracted) > 1000
    for code in CATALOGUES:
        translated = {(entry.msgctxt, entry.msgid) for entry in entries(code) if entry.translated()}
        assert extracted - translated == set(), f"{code}: new strings to translate: {extracted - translated}"
        assert translated - extracted == set(), f"{code}: strings no longer in the code: {translated - extracted}"
