"""What the suite itself relies on to run in its time."""

import gc

from tests.conftest import GC_THRESHOLDS


def test_the_tests_collect_their_young_garbage_every_ten_thousand_allocations():
    assert gc.get_threshold() == GC_THRESHOLDS
