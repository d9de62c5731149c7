"""Statistics the benchmark reports lean on, kept apart so a test can check
them without a lab."""
import math


def median_interval(values):
    """A distribution-free confidence interval for the median of @values:
    the order statistics x(j) and x(n+1-j) for the largest j that keeps the
    chance of the median lying outside at most 5 % (binomial, p = 1/2).
    Returns (low, high, coverage); too few rounds for 95 % give min and max
    with the coverage they have (3 rounds: 75 %)."""
    x = sorted(values)
    n = len(x)
    tail = [math.comb(n, i) / 2 ** n for i in range(n + 1)]
    j = 1
    while j < n // 2 and sum(tail[:j + 1]) <= 0.025:
        j += 1
    return x[j - 1], x[n - j], 1 - 2 * sum(tail[:j])


def bound_verdict(bound, low, high):
    """Whether a ratio whose median lies in [@low, @high] keeps to "at most
    @bound": decided only when the interval is on one side of it (this VM's
    phases move a median by up to 10 % between runs)."""
    if high <= bound:
        return "met"
    if low > bound:
        return "not met"
    return "not resolved, interval %s-%s holds the target" % (low, high)
