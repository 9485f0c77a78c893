"""Countries and UN M49 regions named in each language from CLDR, the regions' table checked against Babel's CLDR."""

from babel.core import get_global

from portal import countries


def test_the_region_table_comes_from_the_cldr_release_babel_carries():
    # The table copies CLDR's territory containment, which Babel does not bundle: a Babel bringing a
    # new CLDR release is the time to compare the table with that release's territoryContainment.
    assert get_global("cldr")["version"] == countries.CLDR_VERSION
