#!/usr/bin/env python3
"""Variability features: lsstseries vs the light-curve package, same data, same run.

Generates N lightcurves x M points (one band, so "per band" = "per lightcurve") with the
lsstseries CLI, then times:
  * lsstseries: `lsstseries batch features DIR --threads T --out ...` end to end
    (Parquet decode, grouping, the 12 default features = 14 columns, writing the result);
  * light-curve: reading the same Parquet with pyarrow and grouping by id (reported apart),
    then `Extractor(...).many(lcs, n_jobs=T)` on the same 12 features.
and prints lightcurves per second for both, per core, and a spot check that the two agree.

Setup (once):
    cargo build --release --bin lsstseries
    python3 -m venv .venv && .venv/bin/pip install numpy pyarrow light-curve==0.13.3
Run:
    .venv/bin/python benches/features_vs_light_curve.py [--objects 100000] [--observations 200] [--threads 2]

light-curve is GPL-3.0; it is only called here, never linked or vendored.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow.parquet as pq
import light_curve as lc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--observations", type=int, default=200)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "lsstseries"))
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} not found: run `cargo build --release --bin lsstseries` first")

    work = tempfile.mkdtemp(prefix="lsstseries-features-bench-")
    data = os.path.join(work, "data")
    subprocess.run(
        [args.bin, "generate", data, "--objects", str(args.objects), "--observations",
         str(args.observations), "--bands", "g", "--files", "20",
         "--row-groups", str(max(1, args.objects * args.observations // 20 // 50_000))],
        check=True,
    )
    n = args.objects
    print(f"{n} lightcurves x {args.observations} points, one band, {args.threads} threads; "
          f"light-curve {lc.__version__}")

    # lsstseries, end to end (best of 3), on all threads and on one
    out = os.path.join(work, "features.parquet")

    def ours(threads):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([args.bin, "batch", "features", data, "--threads", str(threads), "--out", out,
                            "--overwrite"],
                           check=True, stderr=subprocess.DEVNULL)
            best = min(best, time.perf_counter() - t0)
        return best

    t_ours_1 = ours(1)
    t_ours = ours(args.threads)

    # light-curve: read + group (not counted against it), then the features
    t0 = time.perf_counter()
    table = pq.read_table(data, columns=["id", "mjd", "flux", "flux_err"])
    ids = table.column("id").to_numpy()
    t = table.column("mjd").to_numpy()
    m = table.column("flux").to_numpy()
    e = table.column("flux_err").to_numpy()
    order = np.lexsort((t, ids))
    ids, t, m, e = ids[order], t[order], m[order], e[order]
    cuts = np.flatnonzero(np.diff(ids)) + 1
    lcs = list(zip(np.split(t, cuts), np.split(m, cuts), np.split(e, cuts)))
    t_prep = time.perf_counter() - t0

    extractor = lc.Extractor(
        lc.Amplitude(), lc.BeyondNStd(1.0), lc.Eta(), lc.InterPercentileRange(0.25), lc.Kurtosis(),
        lc.LinearFit(), lc.MaximumSlope(), lc.MedianAbsoluteDeviation(), lc.ReducedChi2(), lc.Skew(),
        lc.StetsonK(), lc.WeightedMean(),
    )
    # One core: a plain loop (the fastest single-thread use we found).
    t_lc_1 = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        values = [extractor(*x, sorted=True, check=False) for x in lcs]
        t_lc_1 = min(t_lc_1, time.perf_counter() - t0)
    # All cores: `many` in chunks of 10,000 (one call on all 100,000 scales badly).
    t_lc = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(0, n, 10_000):
            extractor.many(lcs[i:i + 10_000], sorted=True, check=False, n_jobs=args.threads)
        t_lc = min(t_lc, time.perf_counter() - t0)

    def line(label, secs, cores):
        print(f"{label:<58} {secs:7.3f} s {n / secs:10.0f} lc/s {n / secs / cores:10.0f} lc/s/core")

    line("lsstseries end to end (decode+features+write), 1 thread", t_ours_1, 1)
    line(f"lsstseries end to end, {args.threads} threads", t_ours, args.threads)
    line("light-curve features only, 1 thread (loop)", t_lc_1, 1)
    line(f"light-curve features only, many(n_jobs={args.threads}) in chunks", t_lc, args.threads)
    print(f"  (light-curve's input: pyarrow read + sort + split took {t_prep:.3f} s more, not counted)")
    print(f"per core: lsstseries end to end is {t_lc_1 / t_ours_1:.2f}x light-curve's feature step; "
          f"on {args.threads} threads {t_lc / t_ours:.2f}x")

    # spot check: the first lightcurve's amplitude and Stetson K agree
    res = pq.read_table(out)
    amp = res.column("amplitude_g").to_numpy()[0]
    sk = res.column("stetson_k_g").to_numpy()[0]
    names = extractor.names
    their_amp = values[0][names.index("amplitude")]
    their_sk = values[0][names.index("stetson_K")]
    print(f"spot check, first object: amplitude {amp:.12g} vs {their_amp:.12g}; "
          f"stetson_k {sk:.12g} vs {their_sk:.12g}")


if __name__ == "__main__":
    main()
