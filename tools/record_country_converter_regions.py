"""Record what country_converter said about every country, once, before the portal dropped it.

Until the portal took the UN M49 regions from CLDR, ``load_reference`` took them from
country_converter 1.3.2 (with pandas 2.3.3). This script wrote what that code stored for
each ISO 3166-1 country (region, continent, M49 code) to
``tests/portal/data/country_converter_regions.json``, which ``tests/portal/test_reference.py``
compares with the CLDR rows. It needs country_converter, no longer in requirements.txt, and
is kept to show where the fixture came from, not to be run again.
"""

import json
from importlib.metadata import version
from pathlib import Path

import country_converter
import pycountry

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "portal" / "data" / "country_converter_regions.json"


def record() -> dict:
    """What the old ``country_rows()`` stored for each country: UNregion, continent, UNcode (or ISO numeric)."""
    regions = country_converter.CountryConverter().data.set_index("ISO3")
    countries = {}
    for country in sorted(pycountry.countries, key=lambda country: country.alpha_3):
        entry = regions.loc[country.alpha_3]
        code = str(entry["UNcode"])
        countries[country.alpha_3] = {
            "region": str(entry["UNregion"]),
            "continent": str(entry["continent"]),
            "m49": code.zfill(3) if code.isdigit() else country.numeric,
        }
    return {
        "source": (
            f"country_converter {version('country_converter')} (pandas {version('pandas')}, "
            f"pycountry {version('pycountry')}): UNregion, continent and UNcode, as load_reference stored them "
            "(UNcode missing for Taiwan, so its ISO 3166-1 numeric code); written by "
            "tools/record_country_converter_regions.py"
        ),
        "countries": countries,
    }


if __name__ == "__main__":
    data = record()
    # One country a line, so that a diff of the fixture reads country by country.
    lines = [f"  {json.dumps(iso3)}: {json.dumps(row)}" for iso3, row in data["countries"].items()]
    text = f'{{\n "source": {json.dumps(data["source"])},\n "countries": {{\n' + ",\n".join(lines) + "\n }\n}\n"
    FIXTURE.write_text(text, encoding="utf-8")
    print(f"Wrote {FIXTURE}")
