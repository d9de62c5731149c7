"""The benchmark's interval for a median and its target verdicts
(bench/stats.py, bench/run_all.py): pure logic, no lab."""
import os
import random
import sys
import unittest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
sys.path.insert(0, BENCH)
from stats import median_interval  # noqa: E402


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


class CostVerdict(unittest.TestCase):
    def setUp(self):
        import run_all
        self.verdict = run_all.cost_verdict

    def test_only_an_interval_on_one_side_decides(self):
        self.assertEqual(self.verdict("br_decap_vs_bare_encap", {"ci_low": 1.7, "ci_high": 1.99}), "<= 2: met")
        self.assertEqual(self.verdict("br_encap_vs_bare_encap", {"ci_low": 2.01, "ci_high": 2.3}), "<= 2: not met")
        self.assertIn("not resolved", self.verdict("br_decap_vs_bare_encap", {"ci_low": 1.9, "ci_high": 2.1}))
        self.assertEqual(self.verdict("ce_in_vs_bare_encap", {"ci_low": 2.5, "ci_high": 2.95}), "<= 3: met")
        self.assertEqual(self.verdict("bare_decap_fwd_vs_bare_encap", {"ci_low": 1, "ci_high": 9}), "reference")


if __name__ == "__main__":
    unittest.main()
