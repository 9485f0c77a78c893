"""Text that XML can carry: the characters it cannot, defined once for every writer of XML."""

import re

# XML 1.0 (its Char production) has no place for the C0 control characters other than tab, line feed and
# carriage return, for the surrogates, nor for U+FFFE and U+FFFF; lxml refuses a string holding one. Forms
# and the API refuse only NUL, so text typed or pasted into the portal may hold the others.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Return ``text`` without the characters XML cannot carry."""
    return NOT_IN_XML.sub("", text)
