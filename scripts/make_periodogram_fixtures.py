#!/usr/bin/env python3
"""Reference fixtures for the native Lomb-Scargle periodogram (src/analysis/periodogram.rs).

How to run (from the repository root):

    python3 -m venv /tmp/lcvenv
    /tmp/lcvenv/bin/pip install light-curve==0.13.3 numpy
    /tmp/lcvenv/bin/python scripts/make_periodogram_fixtures.py

It writes, deterministically (numpy seed below):

    tests/fixtures/periodogram/lightcurves.csv   id,t,m,err
    tests/fixtures/periodogram/expected.csv      light-curve's Periodogram outputs

The `light-curve` package (GPL-3.0) is used only here, at fixture-generation time, as a
reference: only the numbers it produces are committed, never its code, and the Rust test
(tests/periodogram_vs_light_curve.rs) reads the CSVs without Python.

Lightcurves: 26 sinusoids with known periods from 0.3 to 30 days (log-spaced), Gaussian
noise, uneven sorted times over ~1000 days (half uniform, half in ~200-day seasons), 50 to
1000 points; two exactly constant lightcurves and two of pure noise.

Each lightcurve is evaluated with two configurations, each with fast=False (direct) and
fast=True:

    A  light-curve's defaults, with peaks=3: resolution=10, max_freq_factor=1,
       nyquist='average'
    B  peaks=2, resolution 5 or 20, nyquist 'average' / 'median' / quantile 0.25 in turn,
       max_freq_factor (a multiple of 1/4, exact in f32) large enough that the grid covers
       the true frequency with room to spare

For each row, expected.csv also records the frequency grid light-curve used
(freq_start, freq_step, n_freq from Periodogram.freq_power) and the truth (true_period,
NaN for constant and noise lightcurves).
"""

import csv
import math
from pathlib import Path

import light_curve
import numpy as np

SEED = 20240611
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "periodogram"
SIZES = [50, 80, 120, 200, 300, 500, 700, 1000]
MAX_PEAKS = 3


def times(rng, n, seasonal):
    t0 = 58000.0 + rng.uniform(0.0, 50.0)
    if not seasonal:
        return np.sort(t0 + rng.uniform(0.0, 1000.0, n))
    # three observing seasons of ~200 days, one per ~365 days
    season = rng.integers(0, 3, n)
    return np.sort(t0 + 365.25 * season + rng.uniform(0.0, 200.0, n))


def nyquist_freq(t, nyquist):
    """Angular Nyquist frequency as light-curve defines it (pi / typical interval)."""
    if nyquist == "average":
        return math.pi * (len(t) - 1) / (t[-1] - t[0])
    dt = np.sort(np.diff(t))
    if nyquist == "median":
        return math.pi / np.median(dt)
    # quantile, R-5 definition
    h = len(dt) * float(nyquist) - 0.5
    i = math.floor(h)
    if i < 0:
        q = dt[0]
    elif i >= len(dt) - 1:
        q = dt[-1]
    else:
        q = dt[i] + (h - i) * (dt[i + 1] - dt[i])
    return math.pi / q


def main():
    rng = np.random.default_rng(SEED)
    periods = np.geomspace(0.3, 30.0, 26)
    # lightcurves: (kind, period, n, noise, seasonal)
    specs = []
    for k, p in enumerate(periods):
        n = SIZES[(k * 3) % len(SIZES)]
        noise = [0.1, 0.3, 0.6][k % 3]
        specs.append(("sine", float(p), n, noise, k % 2 == 1))
    specs.append(("constant", math.nan, 50, 0.0, False))
    specs.append(("constant", math.nan, 300, 0.0, True))
    specs.append(("noise", math.nan, 100, 0.5, False))
    specs.append(("noise", math.nan, 600, 0.5, True))

    OUT.mkdir(parents=True, exist_ok=True)
    lc_rows = []
    exp_rows = []
    nyquists = ["average", "median", "0.25"]
    for idx, (kind, period, n, noise, seasonal) in enumerate(specs):
        lc_id = idx + 1
        t = times(rng, n, seasonal)
        err = np.full(n, max(noise, 0.01)) * rng.uniform(0.8, 1.2, n)
        if kind == "sine":
            phase = rng.uniform(0.0, 2.0 * math.pi)
            m = 18.0 + np.sin(2.0 * math.pi * t / period + phase) + noise * rng.normal(size=n)
        elif kind == "constant":
            m = np.full(n, 18.0)
        else:
            m = 18.0 + noise * rng.normal(size=n)
        for ti, mi, ei in zip(t, m, err):
            lc_rows.append((lc_id, repr(float(ti)), repr(float(mi)), repr(float(ei))))

        nyq_b = nyquists[idx % 3]
        nyq_b_arg = nyq_b if nyq_b in ("average", "median") else float(nyq_b)
        if kind == "sine":
            need = 1.25 * (2.0 * math.pi / period) / nyquist_freq(t, nyq_b)
            mff_b = max(1.0, math.ceil(need * 4.0) / 4.0)
        else:
            mff_b = 2.0
        res_b = 20.0 if idx % 2 == 0 else 5.0
        configs = [
            ("A", 3, 10.0, 1.0, "average", "average"),
            ("B", 2, res_b, mff_b, nyq_b, nyq_b_arg),
        ]
        for name, peaks, res, mff, nyq_label, nyq_arg in configs:
            for fast in (False, True):
                feature = light_curve.Periodogram(
                    peaks=peaks,
                    resolution=res,
                    max_freq_factor=mff,
                    nyquist=nyq_arg,
                    fast=fast,
                )
                values = feature(t, m)
                freq, _power = feature.freq_power(t, m)
                row = {
                    "id": lc_id,
                    "config": name,
                    "fast": int(fast),
                    "peaks": peaks,
                    "resolution": res,
                    "max_freq_factor": mff,
                    "nyquist": nyq_label,
                    "true_period": period,
                    "n_freq": len(freq),
                    "freq_start": float(freq[0]),
                    "freq_step": float(freq[1] - freq[0]) if len(freq) > 1 else math.nan,
                }
                for k in range(MAX_PEAKS):
                    if k < peaks:
                        row[f"period_{k}"] = float(values[2 * k])
                        row[f"period_s_to_n_{k}"] = float(values[2 * k + 1])
                    else:
                        row[f"period_{k}"] = math.nan
                        row[f"period_s_to_n_{k}"] = math.nan
                exp_rows.append(row)

    header = (
        f"# generated by scripts/make_periodogram_fixtures.py (seed {SEED}) with "
        f"light_curve {light_curve.__version__}; numbers only\n"
    )
    with open(OUT / "lightcurves.csv", "w", newline="") as f:
        f.write(header)
        w = csv.writer(f)
        w.writerow(["id", "t", "m", "err"])
        w.writerows(lc_rows)
    fields = list(exp_rows[0].keys())
    with open(OUT / "expected.csv", "w", newline="") as f:
        f.write(header)
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for row in exp_rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    print(f"wrote {len(specs)} lightcurves, {len(lc_rows)} points, {len(exp_rows)} expected rows")


if __name__ == "__main__":
    main()
