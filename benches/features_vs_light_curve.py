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

    # lsstseries, end to end (best of 3)
    out = os.path.join(work, "features.parquet")
    ours = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([args.bin, "batch", "features", data, "--threads", str(args.threads), "--out", out],
                       check=True, stderr=subprocess.DEVNULL)
        ours.append(time.perf_counter() - t0)
    t_ours = min(ours)

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
    theirs = []
    for _ in range(3):
        t0 = time.perf_counter()
        values = extractor.many(lcs, sorted=True, check=False, n_jobs=args.threads)
        theirs.append(time.perf_counter() - t0)
    t_lc = min(theirs)

    print(f"lsstseries  end to end (decode+features+write): {t_ours:7.3f} s  "
          f"{n / t_ours:10.0f} lc/s  {n / t_ours / args.threads:10.0f} lc/s/core")
    print(f"light-curve features only (n_jobs={args.threads}):        {t_lc:7.3f} s  "
          f"{n / t_lc:10.0f} lc/s  {n / t_lc / args.threads:10.0f} lc/s/core")
    print(f"  (light-curve's input: pyarrow read + sort + split took {t_prep:.3f} s more)")
    print(f"ratio: lsstseries end to end is {t_lc / t_ours:.2f}x the speed of light-curve's feature step")

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
