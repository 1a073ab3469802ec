#!/usr/bin/env python3
"""Fixtures for tests/features_vs_light_curve.rs: lightcurves and light-curve's features.

Run (from the repository root, in a virtualenv with numpy and light_curve 0.13.x):

    python -m pip install numpy 'light_curve==0.13.3'
    python scripts/make_feature_fixtures.py

It writes, deterministically (fixed numpy seed):

* tests/fixtures/features/lightcurves.csv: id,t,m,err, rows grouped by id, each
  lightcurve in time order (60 lightcurves: sinusoidal variables, constant stars, short
  ones of 1-5 points, outliers, linear trends, heavy tails, a flux-like one around zero,
  an exactly flat one, one with a repeated time, one with all times equal);
* tests/fixtures/features/expected.csv: id and one column per feature output, named as
  lsstseries names them, holding light-curve's value (full-precision repr); an empty cell
  where light-curve raises (too few points, a flat lightcurve, a panic).

and prints the light_curve version used.

light-curve (https://github.com/light-curve) is GPL-3.0. It runs only here, at fixture
time; only its outputs (numbers) are committed, never its code, and the Rust tests read
the CSV files without Python.
"""

import math
import os
import sys

import numpy as np
import light_curve as lc

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "features")

# (our column names, light-curve feature); the order is the column order of expected.csv.
FEATURES = [
    (["amplitude"], lc.Amplitude()),
    (["beyond_1_std"], lc.BeyondNStd(1.0)),
    (["beyond_2_std"], lc.BeyondNStd(2.0)),
    (["eta"], lc.Eta()),
    (["excess_variance"], lc.ExcessVariance()),
    (["inter_percentile_range_25"], lc.InterPercentileRange(0.25)),
    (["inter_percentile_range_10"], lc.InterPercentileRange(0.1)),
    (["kurtosis"], lc.Kurtosis()),
    (
        ["linear_fit_slope", "linear_fit_slope_sigma", "linear_fit_reduced_chi2"],
        lc.LinearFit(),
    ),
    (["maximum_slope"], lc.MaximumSlope()),
    (["mean"], lc.Mean()),
    (["median"], lc.Median()),
    (["median_absolute_deviation"], lc.MedianAbsoluteDeviation()),
    (["percent_amplitude"], lc.PercentAmplitude()),
    (["reduced_chi2"], lc.ReducedChi2()),
    (["skew"], lc.Skew()),
    (["standard_deviation"], lc.StandardDeviation()),
    (["stetson_k"], lc.StetsonK()),
    (["weighted_mean"], lc.WeightedMean()),
]


def increasing_times(rng, n, start=59000.0, span=1000.0):
    """Strictly increasing times: random positive gaps scaled to about `span`."""
    gaps = rng.exponential(1.0, n) + 1e-3
    t = start + np.cumsum(gaps) / gaps.sum() * span
    return t


def errors(rng, n, lo=0.01, hi=0.2):
    return rng.uniform(lo, hi, n)


def make_lightcurves(rng):
    curves = []

    def add(t, m, e):
        t, m, e = (np.ascontiguousarray(x, dtype=np.float64) for x in (t, m, e))
        assert len(t) == len(m) == len(e) and np.all(e > 0) and np.all(np.diff(t) >= 0)
        curves.append((len(curves) + 1, t, m, e))

    # Sinusoidal variables.
    for _ in range(18):
        n = int(rng.integers(20, 150))
        t = increasing_times(rng, n)
        e = errors(rng, n)
        mag0, amp = rng.uniform(15, 21), rng.uniform(0.1, 1.5)
        period, phase = rng.uniform(0.3, 50), rng.uniform(0, 2 * math.pi)
        m = mag0 + amp * np.sin(2 * math.pi * t / period + phase) + e * rng.normal(size=n)
        add(t, m, e)
    # Constant stars: scatter as the errors say.
    for _ in range(15):
        n = int(rng.integers(10, 120))
        t = increasing_times(rng, n)
        e = errors(rng, n)
        add(t, rng.uniform(15, 21) + e * rng.normal(size=n), e)
    # Short ones.
    for n in [1, 2, 3, 4, 5, 2]:
        t = increasing_times(rng, n, span=30.0)
        e = errors(rng, n)
        add(t, rng.uniform(15, 21) + rng.normal(0, 0.3, n), e)
    # Outliers on constant or variable stars.
    for k in range(8):
        n = int(rng.integers(30, 100))
        t = increasing_times(rng, n)
        e = errors(rng, n)
        m = rng.uniform(15, 21) + e * rng.normal(size=n)
        if k % 2:
            m += 0.5 * np.sin(2 * math.pi * t / rng.uniform(1, 20))
        idx = rng.choice(n, size=int(rng.integers(1, 4)), replace=False)
        m[idx] += rng.choice([-1, 1], size=len(idx)) * rng.uniform(2, 5, len(idx))
        add(t, m, e)
    # Linear trends.
    for _ in range(5):
        n = int(rng.integers(15, 80))
        t = increasing_times(rng, n)
        e = errors(rng, n)
        m = rng.uniform(15, 21) + rng.uniform(-2e-3, 2e-3) * (t - t[0]) + e * rng.normal(size=n)
        add(t, m, e)
    # Exactly flat values.
    n = 12
    add(increasing_times(rng, n), np.full(n, 15.0), errors(rng, n))
    # A repeated time (a tie; light-curve is told the input is sorted).
    n = 25
    t = increasing_times(rng, n)
    t[10] = t[9]
    e = errors(rng, n)
    add(t, 18 + 0.3 * np.sin(t / 3.0) + e * rng.normal(size=n), e)
    # All times equal.
    n = 5
    e = errors(rng, n)
    add(np.full(n, 59123.5), 17 + rng.normal(0, 0.2, n), e)
    # Heavy tails.
    n = 200
    t = increasing_times(rng, n)
    e = errors(rng, n)
    add(t, 19 + 0.1 * rng.standard_t(2, n), e)
    # Flux-like values around zero, small times.
    n = 60
    t = increasing_times(rng, n, start=0.0, span=10.0)
    e = rng.uniform(0.5, 2.0, n)
    add(t, 0.3 + 2.0 * np.sin(t) + e * rng.normal(size=n), e)
    # Long sinusoids.
    for _ in range(3):
        n = 500
        t = increasing_times(rng, n, span=3000.0)
        e = errors(rng, n)
        m = 17 + 0.8 * np.sin(2 * math.pi * t / rng.uniform(0.5, 5)) + e * rng.normal(size=n)
        add(t, m, e)
    assert len(curves) == 60, len(curves)
    return curves


def fmt(x):
    return repr(float(x))


def main():
    rng = np.random.default_rng(20240917)
    curves = make_lightcurves(rng)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lightcurves.csv"), "w") as f:
        f.write("id,t,m,err\n")
        for i, t, m, e in curves:
            for row in zip(t, m, e):
                f.write(f"{i},{','.join(fmt(x) for x in row)}\n")
    columns = [c for names, _ in FEATURES for c in names]
    with open(os.path.join(OUT, "expected.csv"), "w") as f:
        f.write("id," + ",".join(columns) + "\n")
        for i, t, m, e in curves:
            cells = []
            for names, feature in FEATURES:
                try:
                    values = feature(t, m, e, sorted=True)
                    cells.extend(fmt(v) for v in values)
                except BaseException as err:  # ValueError, or a Rust panic
                    if isinstance(err, (KeyboardInterrupt, SystemExit)):
                        raise
                    cells.extend("" for _ in names)
            f.write(f"{i}," + ",".join(cells) + "\n")
    print(f"light_curve {lc.__version__}; wrote {len(curves)} lightcurves to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
