"""The dependency audit says what it checked: never a clean bill for packages it could not audit."""

from tools.audit_dependencies import summarise

DJANGO = {"name": "django", "version": "5.2.19", "vulns": []}
SKIPPED = {"name": "celery", "skip_reason": "Dependency not found on PyPI and could not be audited: celery (5.7.0)"}


def test_an_audit_that_checked_nothing_says_so_instead_of_reporting_no_vulnerabilities():
    lines, status = summarise({"dependencies": [SKIPPED, {**SKIPPED, "name": "redis"}], "fixes": []})

    assert lines == [
        "Dependency audit NOT DONE: the advisory source answered for none of the 2 pinned packages, so nothing "
        "was checked (a closed network or a mirror without PyPI's JSON API)."
    ]
    assert status == 0


def test_an_unreachable_advisory_source_is_named_with_the_error():
    lines, status = summarise(None, "Traceback ...\nConnectionError: Failed to resolve 'api.osv.dev'\n")

    assert lines == [
        "Dependency audit NOT DONE: the advisory source could not be reached "
        "(ConnectionError: Failed to resolve 'api.osv.dev')."
    ]
    assert status == 0


def test_a_partial_audit_counts_what_was_checked_and_names_what_was_not():
    lines, status = summarise({"dependencies": [DJANGO, SKIPPED], "fixes": []})

    assert lines == [
        "Not audited (1): celery.",
        "Dependency audit: 1 of 2 pinned packages checked, no known vulnerability.",
    ]
    assert status == 0


def test_a_known_vulnerability_fails_the_audit_and_names_the_advisory_and_the_fix():
    vulnerable = {**DJANGO, "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["5.2.20"], "aliases": []}]}

    lines, status = summarise({"dependencies": [vulnerable], "fixes": []})

    assert lines == [
        "VULNERABLE django 5.2.19: GHSA-xxxx (fixed in 5.2.20)",
        "Dependency audit: 1 of 1 pinned packages checked, 1 with a known vulnerability.",
    ]
    assert status == 1
