"""The fan-out bench's own arithmetic (bench/scenarios/fanout.py) and its targets'
verdicts (bench/report/ratios.py): the rate of the steady part, and what counts as held."""

from bench.report.figures import Figures
from bench.report.ratios import fanout_rate_targets
from bench.scenarios.fanout import steady_rate


def test_the_steady_rate_leaves_out_the_ramp_and_the_tail():
    # 1,000 frames a millisecond apart, after a slow start and before a slow end.
    arrivals = [0.0, 5.0] + [10.0 + n / 1000 for n in range(1000)] + [20.0, 30.0]
    assert abs(steady_rate(arrivals) - 1000.0) < 1.0


def verdict(name: str, value: float) -> bool:
    figures = Figures()
    figures.add(name, value)
    (target,) = [t for t in fanout_rate_targets() if t.measured(figures) is not None]
    return target.met(target.measured(figures).median)


def test_the_rate_is_held_within_five_percent_under_and_never_above():
    assert verdict("fanout.rate.ratio", 0.96)
    assert not verdict("fanout.rate.ratio", 0.94)
    assert not verdict("fanout.rate.ratio", 1.02)


def test_one_throttled_post_misses_the_target():
    assert verdict("fanout.rate.throttled", 0)
    assert not verdict("fanout.rate.throttled", 1)
