"""Commands an operator runs speak the operator's language, from the environment."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(name, *args, **options) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, **options)
    return out.getvalue().strip()


def test_a_command_speaks_french_under_a_french_locale(monkeypatch):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert run("load_reference").startswith("Données de référence")


def test_a_commands_refusal_speaks_russian_under_a_russian_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    with pytest.raises(CommandError, match="nobody") as refused:
        run("issue_token", "nobody")
    assert "USERNAME" in str(refused.value) and "nobody" in str(refused.value)
    assert any("\u0400" <= letter <= "\u04ff" for letter in str(refused.value))


def test_an_unknown_locale_gives_english(monkeypatch):
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    assert run("load_reference").startswith("Reference data")
