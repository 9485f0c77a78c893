"""The languages a report is rendered in: reading one from a request, and its writing direction."""

from django.conf import settings
from django.utils import translation


def codes() -> list[str]:
    """The portal's languages (``settings.LANGUAGES``), in their order."""
    return [code for code, _name in settings.LANGUAGES]


def or_english(value) -> str:
    """The language a request names (``?language=fr``); English for an unknown or malformed code, never an error."""
    value = str(value or "").strip().lower()
    return value if value in codes() else settings.LANGUAGE_CODE


def direction(language: str) -> str:
    """``rtl`` for a language written right to left (Arabic), else ``ltr``."""
    return "rtl" if translation.get_language_info(language)["bidi"] else "ltr"


def active() -> str:
    """The request's language (``LocaleMiddleware`` follows the user's choice, then Accept-Language)."""
    return or_english(translation.get_language())
