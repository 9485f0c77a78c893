"""Countries and UN M49 regions named in each language from CLDR; the regions' table checked against Babel's CLDR."""

import pytest
from babel.core import get_global
from django.utils import translation

from portal import countries
from portal.models import Country


def test_the_region_table_comes_from_the_cldr_release_babel_carries():
    # The table copies CLDR's territory containment, which Babel does not bundle: a Babel bringing a
    # new CLDR release is the time to compare the table with that release's territoryContainment.
    assert get_global("cldr")["version"] == countries.CLDR_VERSION


@pytest.mark.parametrize(
    "language, name", [("en", "Kenya"), ("fr", "Kenya"), ("ar", "كينيا"), ("zh-hans", "肯尼亚"), ("ru", "Кения")]
)
def test_a_country_is_named_in_each_language_by_either_iso_code(language, name):
    assert countries.country_name("KE", language) == name
    assert countries.country_name("KEN", language) == name


def test_a_region_is_named_in_each_language():
    assert countries.region_name("014", "fr") == "Afrique orientale"
    assert countries.region_name("014", "es") == "África oriental"
    assert countries.region_name("014", "zh-hans") == "东非"


def test_names_follow_the_active_language():
    with translation.override("fr"):
        assert countries.country_name("EG") == "Égypte"
        assert countries.region_name("015") == "Afrique septentrionale"


def test_a_code_cldr_does_not_know_is_named_by_the_default_or_else_by_itself():
    assert countries.country_name("ZY", "fr", default="Country XAA") == "Country XAA"
    assert countries.country_name("ZY", "fr") == "ZY"
    assert countries.region_name("", "fr", default="Marker region") == "Marker region"


def test_antarctica_is_a_region_of_its_own():
    assert countries.m49_region("AQ") == ("010", "010")
    assert countries.region_name("010", "fr") == "Antarctique"


def test_english_pages_show_the_un_names_stored_and_other_languages_cldrs():
    # Stored, sent by filters and returned by the API: the UN's name, which English pages show too;
    # CLDR's English ("Southeast Asia", "Congo - Kinshasa") is not the UN's.
    assert countries.english_region_name("035") == "South-eastern Asia"
    assert countries.region_name("035", "en", default="South-eastern Asia") == "South-eastern Asia"
    assert countries.region_name("035", "fr", default="South-eastern Asia") == "Asie du Sud-Est"
    assert countries.country_name("CD", "en", default="Congo, The Democratic Republic of the") == (
        "Congo, The Democratic Republic of the"
    )
    assert countries.english_region_name("019") == "Americas"


def test_names_sort_as_a_reader_expects():
    names = ["Zambie", "Égypte", "Espagne", "estonie"]
    assert sorted(names, key=countries.name_key) == ["Égypte", "Espagne", "estonie", "Zambie"]


def test_a_country_shows_its_names_in_the_active_language():
    kenya = Country(iso3="KEN", iso2="KE", name="Kenya", region="Eastern Africa", region_code="014")
    with translation.override("ar"):
        assert (kenya.display_name, kenya.region_name, str(kenya)) == ("كينيا", "شرق أفريقيا", "كينيا")


def test_a_made_up_country_shows_its_stored_names():
    country = Country(iso3="XAA", iso2="ZY", name="Country XAA", region="Marker region")
    with translation.override("fr"):
        assert (country.display_name, country.region_name) == ("Country XAA", "Marker region")
