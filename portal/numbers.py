"""Numbers as people write them in each language: parsed strictly, shown the same way everywhere.

Babel's CLDR data gives each language its decimal and grouping signs. Typed numbers are
parsed only when they mean one thing in the active language ("12,5" is 12.5 in French
and refused in English, where a comma groups thousands); anything else is refused with
the form expected, never guessed at.
"""

import functools
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from django.utils.translation import get_language

# Spaces people type between thousands: space, no-break space, narrow no-break space, thin space.
SPACES = " \u00a0\u202f\u2009"
SPACE_GROUPED = re.compile(rf"^[+-]?\d{{1,3}}(?:[{SPACES}]\d{{3}})+(?:[.,]\d+)?$")


# Arabic-Indic and Eastern Arabic-Indic digits, as Arabic keyboards type them, read as 0-9; the Arabic
# decimal and thousands signs (٫ ٬) read as the point and comma that Arabic written in Latin digits uses.
NATIVE_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},
        "\u066b": ".",
        "\u066c": ",",
    }
)


class NotANumber(ValueError):
    """Raised for text that is not a number in the language, with the form expected (``example``)."""

    def __init__(self, text: str, example: str):
        super().__init__(text)
        self.example = example


# CLDR's plain "en" is American English; the United Nations write British English (30 November 2026).
CLDR_LOCALES = {"en": "en_GB"}


def locale_of(language: str | None = None) -> Locale:
    """The Babel locale of a Django language code (the active one by default), English when unknown."""
    return _locale(language or get_language() or "en")


# Parsing a locale name costs some 50 µs, and a page names hundreds of countries: a few languages, kept.
@functools.lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(CLDR_LOCALES.get(language, language).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(CLDR_LOCALES["en"])


def percent(value, language: str | None = None, digits: int = 1) -> str:
    """A percentage (45.5 for 45.5 %) written the language's way: 45.5%, 45,5 %, ٪45.5 or 45,5 %."""
    if value is None or value == "":
        return "–"
    # The language's own pattern (its sign, its spacing), with the decimals the value has up to ``digits``.
    share = round(Decimal(str(value)), digits).normalize() / 100
    return format_percent(share, locale=locale_of(language), decimal_quantization=False)


def example(language: str | None = None) -> str:
    """A number written the language's way, to show the form expected: 1,234.5 or 1 234,5."""
    return format_decimal(Decimal("1234.5"), format="#,##0.0", locale=locale_of(language))


def parse(text: str, language: str | None = None) -> Decimal:
    """Read a number typed in the language: its decimal sign, its thousands grouping (or spaces between
    thousands, understood in every language); refuse what could be read two ways."""
    locale = locale_of(language)
    text = text.strip().translate(NATIVE_DIGITS)
    if SPACE_GROUPED.match(text):
        text = re.sub(f"[{SPACES}]", "", text)
    # Only the language's own signs: a point in French, where it is neither the decimal sign nor the
    # grouping one, could mean 1.234 or 1234; exponents, NaN and infinity are not what people type.
    signs = re.escape(get_decimal_symbol(locale) + get_group_symbol(locale))
    if not re.fullmatch(rf"[+-]?\d[\d{signs}]*", text):
        raise NotANumber(text, example(language))
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise NotANumber(text, example(language)) from None


def show(value, language: str | None = None, digits: int = 2) -> str:
    """Write a number the language's way, with at most ``digits`` decimals and none trailing."""
    if value is None or value == "":
        return "–"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(Decimal(str(value)), format=pattern, locale=locale_of(language))
