"""What the suite itself relies on: to run in its time, and to give the same answer whenever it runs."""

import gc
import time

from portal import ratelimit
from tests.conftest import GC_THRESHOLDS


def test_the_tests_collect_their_young_garbage_every_ten_thousand_allocations():
    assert gc.get_threshold() == GC_THRESHOLDS


def test_the_rate_limits_count_a_whole_test_in_the_windows_of_its_start():
    started = ratelimit.time.time()
    assert time.time() > started  # the real clock runs on: the limits' is held
    assert ratelimit.time.time() == started
