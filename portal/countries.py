"""Countries and their UN M49 regions, named in each of the portal's languages from CLDR.

Names come from Babel's CLDR data (``Locale.territories``), which names countries by their
ISO 3166-1 codes and regions by their M49 codes ("011" Western Africa, "Afrique de l’Ouest",
"غرب أفريقيا"). Which region holds which country is CLDR's territory containment, which
Babel does not bundle (python-babel/babel#474): the M49 part of it is copied below from the
CLDR release Babel carries, and a test checks that release when Babel is upgraded.

What the database stores stays English and stable (the region as the UN names it, which the
API returns and the filters send); what a person reads is named here, in their language.
"""

import unicodedata

from babel.core import get_global

from .numbers import locale_of

# The CLDR release of the table below; Babel 2.19.0 carries CLDR 49 (babel.core.get_global("cldr")).
CLDR_VERSION = "49"

# CLDR 49's territoryContainment (common/supplemental/supplementalData.xml), its UN M49 part:
# each region of the world, its sub-regions (for the Americas, South America, Central America,
# the Caribbean and Northern America: M49's intermediate regions, where M49 has them), and their
# countries and territories. Left out are CLDR's groupings that are not M49 sub-regions of a
# country (EU, EZ, UN; Latin America 419, Sub-Saharan Africa 202, North America 003) and its
# Outlying Oceania (QO), which lists Antarctica and islands outside ISO 3166-1.
M49_REGIONS = {
    "002": {  # Africa
        "011": "BF BJ CI CV GH GM GN GW LR ML MR NE NG SH SL SN TG",
        "014": "BI DJ ER ET IO KE KM MG MU MW MZ RE RW SC SO SS TF TZ UG YT ZM ZW",
        "015": "DZ EG EH LY MA SD TN EA IC",
        "017": "AO CD CF CG CM GA GQ ST TD",
        "018": "BW LS NA SZ ZA",
    },
    "019": {  # Americas
        "005": "AR BO BR BV CL CO EC FK GF GS GY PE PY SR UY VE",
        "013": "BZ CR GT HN MX NI PA SV",
        "021": "BM CA GL PM US",
        "029": "AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS PR SX TC TT VC VG VI",
    },
    "142": {  # Asia
        "030": "CN HK JP KP KR MN MO TW",
        "034": "AF BD BT IN IR LK MV NP PK",
        "035": "BN ID KH LA MM MY PH SG TH TL VN",
        "143": "TM TJ KG KZ UZ",
        "145": "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    },
    "150": {  # Europe
        "039": "AD AL BA ES GI GR HR IT ME MK MT RS PT SI SM VA XK",
        "151": "BG BY CZ HU MD PL RO RU SK UA",
        "154": "GG IM JE AX DK EE FI FO GB IE IS LT LV NO SE SJ CQ",
        "155": "AT BE CH DE FR LI LU MC NL",
    },
    "009": {  # Oceania
        "053": "AU CC CX HM NF NZ",
        "054": "FJ NC PG SB VU",
        "057": "FM GU KI MH MP NR PW UM",
        "061": "AS CK NU PF PN TK TO TV WF WS",
    },
}

# M49 puts Antarctica in no region; it stands as its own region and continent under its own
# code (010), as country_converter had it, rather than in CLDR's Outlying Oceania.
ANTARCTICA = "010"

# Where the UN's English name of a region (unstats.un.org/unsd/methodology/m49) differs from
# CLDR's ("Southeast Asia", "Australasia", "Micronesian Region"). The stored region keeps the
# UN's: the API has always returned it and filter links carry it.
UN_ENGLISH_NAMES = {"035": "South-eastern Asia", "053": "Australia and New Zealand", "057": "Micronesia"}

_REGION_OF = {
    iso2: (subregion, region)
    for region, subregions in M49_REGIONS.items()
    for subregion, members in subregions.items()
    for iso2 in members.split()
}
_REGION_OF["AQ"] = (ANTARCTICA, ANTARCTICA)


def m49_region(iso2: str) -> tuple[str, str]:
    """The M49 codes of a country's sub-region and region ("011", "002" for Ghana); blanks when CLDR has none."""
    return _REGION_OF.get(iso2, ("", ""))


def english_region_name(code: str) -> str:
    """The English name the portal stores for an M49 region: the UN's ("South-eastern Asia", "Americas")."""
    return UN_ENGLISH_NAMES.get(code) or region_name(code, "en")


def country_name(code: str, language: str | None = None, default: str | None = None) -> str:
    """Name a country, given its ISO 3166-1 alpha-2 or alpha-3 code, in the language (the active one by default).

    Without a CLDR name for the code, return ``default``, or else the code itself.
    """
    locale = locale_of(language)
    if locale.language == "en" and default:
        # In English the stored name stands: ISO 3166's, which the UN uses, not CLDR's ("Congo - Kinshasa").
        return default
    if len(code) == 3:
        # CLDR lists every alpha-3 code as an alias of its alpha-2 code.
        code = (get_global("territory_aliases").get(code) or [code])[0]
    return locale.territories.get(code) or default or code


def region_name(code: str, language: str | None = None, default: str | None = None) -> str:
    """Name a UN M49 region ("011"), in the language (the active one by default).

    Without a CLDR name for the code, return ``default``, or else the code itself.
    """
    locale = locale_of(language)
    if locale.language == "en" and default:
        # In English the stored name stands: the UN's ("South-eastern Asia"), not CLDR's ("Southeast Asia").
        return default
    territory = "AQ" if code == ANTARCTICA else code
    return locale.territories.get(territory) or default or code


def name_key(name: str) -> str:
    """Sort names as a reader expects rather than by code point: case and accents aside (Égypte among the Es)."""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(letter for letter in letters if not unicodedata.combining(letter)).casefold()
