"""The benchmark's interval for a median and its target verdicts
(bench/stats.py): pure logic, no lab."""
import os
import random
import sys
import unittest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
sys.path.insert(0, BENCH)
from stats import bound_verdict, median_interval  # noqa: E402


class MedianInterval(unittest.TestCase):
    def test_order_statistics_by_rounds(self):
        # Binomial(n, 1/2) tails: 9 rounds -> 2nd and 8th value (96.1 %),
        # 15 -> 4th and 12th (96.5 %), 3 -> min and max (75 %).
        for n, lo, hi, cover in ((3, 1, 3, 0.75), (9, 2, 8, 0.9609), (15, 4, 12, 0.9648)):
            values = list(range(n, 0, -1))  # unsorted on purpose
            got = median_interval(values)
            self.assertEqual(got[:2], (lo, hi), n)
            self.assertAlmostEqual(got[2], cover, places=3)

    def test_coverage_holds_for_random_samples(self):
        rng = random.Random(7)
        for n in (9, 15):
            _, _, claimed = median_interval(list(range(n)))
            trials = 20000
            inside = 0
            for _ in range(trials):
                lo, hi, _ = median_interval([rng.random() for _ in range(n)])
                inside += lo <= 0.5 <= hi  # the true median of U(0, 1)
            self.assertAlmostEqual(inside / trials, claimed, delta=0.01)


class BoundVerdict(unittest.TestCase):
    def test_only_an_interval_on_one_side_decides(self):
        self.assertEqual(bound_verdict(2.0, 1.7, 1.99), "met")
        self.assertEqual(bound_verdict(2.0, 2.01, 2.3), "not met")
        self.assertIn("not resolved", bound_verdict(2.0, 1.9, 2.1))
        self.assertEqual(bound_verdict(3.0, 2.5, 3.0), "met")  # "at most": the bound itself keeps it
        self.assertIn("not resolved", bound_verdict(3.0, 3.0, 3.4))


if __name__ == "__main__":
    unittest.main()
