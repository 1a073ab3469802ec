//! The structure function against a plain all-pairs reference: every pair held in memory,
//! edges from the sorted lags, each bin's values gathered and estimated, bootstrap draws
//! gathered per repetition. The implementation runs with tiny memory limits, so that
//! pairs are generated again for each pass, MacLeod bins are narrowed instead of gathered
//! and bootstrap bins are done in turns; results must be equal bit for bit.

use super::*;
use crate::rng::Rng;
use proptest::prelude::*;
use std::f64::consts::PI;

struct Ref {
    dt: f64,
    df: f64,
    e: f64,
}

fn numpy_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let h = (n - 1) as f64 * q;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn reference_edges(o: &SfOptions, pairs: &[Ref]) -> Vec<f64> {
    if let Binning::Edges(e) = &o.binning {
        return e.clone();
    }
    let bins = pairs.len().div_ceil(o.bin_count_target).max(1);
    let mut lags: Vec<f64> = pairs.iter().map(|p| p.dt).collect();
    lags.sort_by(f64::total_cmp);
    lags.dedup();
    let (lo, hi) = (lags[0], lags[lags.len() - 1]);
    let linspace = |a: f64, b: f64| -> Vec<f64> {
        let mut e: Vec<f64> = (0..=bins)
            .map(|i| a + (b - a) * i as f64 / bins as f64)
            .collect();
        e[0] -= 0.001 * (b - a);
        e
    };
    match o.binning {
        Binning::Size => (0..=bins)
            .map(|i| numpy_quantile(&lags, i as f64 / bins as f64))
            .collect(),
        Binning::Length => linspace(lo, hi),
        _ => linspace(lo.ln(), hi.ln())
            .into_iter()
            .map(f64::exp)
            .collect(),
    }
}

/// scipy's binned_statistic: right-open bins, the last closed.
fn reference_bin(edges: &[f64], x: f64) -> Option<usize> {
    let last = edges.len() - 1;
    if x < edges[0] || x > edges[last] {
        return None;
    }
    if x == edges[last] {
        return Some(last - 1);
    }
    (0..last).find(|&k| edges[k] <= x && x < edges[k + 1])
}

fn mean(v: impl Iterator<Item = f64>, n: usize) -> f64 {
    v.sum::<f64>() / n as f64
}

/// (mean dt, SF^2, pairs) of a bin's pairs; NaN for none.
fn reference_estimate(estimator: Estimator, bin: &[&Ref]) -> (f64, f64, usize) {
    let n = bin.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mut dt = 0.0;
    bin.iter().for_each(|p| dt += p.dt);
    let sf2 = match estimator {
        Estimator::Basic => mean(bin.iter().map(|p| p.df * p.df - p.e), n),
        Estimator::Bauer2009a => {
            mean(bin.iter().map(|p| p.df * p.df), n) - mean(bin.iter().map(|p| p.e), n)
        }
        Estimator::Bauer2009b => {
            let m = mean(bin.iter().map(|p| p.df.abs()), n);
            PI / 2.0 * m * m - mean(bin.iter().map(|p| p.e), n)
        }
        Estimator::Schmidt2010 => {
            let m = mean(
                bin.iter()
                    .map(|p| (PI / 2.0).sqrt() * p.df.abs() - p.e.sqrt()),
                n,
            );
            m * m
        }
        Estimator::Macleod2012 => {
            let mut df: Vec<f64> = bin.iter().map(|p| p.df).collect();
            df.sort_by(f64::total_cmp);
            let iqr = numpy_quantile(&df, 0.75) - numpy_quantile(&df, 0.25);
            (0.74 * iqr) * (0.74 * iqr)
        }
    };
    (dt / n as f64, sf2, n)
}

fn reference_bins(o: &SfOptions, edges: &[f64], pairs: &[&Ref]) -> Vec<(f64, f64, usize)> {
    (0..edges.len() - 1)
        .map(|b| {
            let members: Vec<&Ref> = pairs
                .iter()
                .copied()
                .filter(|p| reference_bin(edges, p.dt) == Some(b))
                .collect();
            reference_estimate(o.estimator, &members)
        })
        .collect()
}

fn sorted_finite(v: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn quantile_or_nan(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        f64::NAN
    } else {
        numpy_quantile(sorted, q)
    }
}

/// The structure function as the definition reads, every pair held.
fn reference(lcs: &[SfInput<'_>], o: &SfOptions) -> Vec<SfBin> {
    let mut per_lc: Vec<Vec<Ref>> = Vec::new();
    for &(t, f, e) in lcs {
        let sq = |i: usize| match (o.errors, e) {
            (SfErrors::Column, Some(e)) => e[i] * e[i],
            (SfErrors::Scalar(s), _) => s * s,
            _ => 0.0,
        };
        let time = |i: usize| if o.ignore_timestamps { i as f64 } else { t[i] };
        let mut pairs = Vec::new();
        if f.len() >= MIN_OBSERVATIONS {
            for i in 0..f.len() {
                for j in i + 1..f.len() {
                    let dt = time(j) - time(i);
                    if dt > 0.0 {
                        pairs.push(Ref {
                            dt,
                            df: f[j] - f[i],
                            e: sq(i) + sq(j),
                        });
                    }
                }
            }
        }
        if !pairs.is_empty() {
            per_lc.push(pairs);
        }
    }
    let all: Vec<&Ref> = per_lc.iter().flatten().collect();
    if all.is_empty() {
        return Vec::new();
    }
    let all_owned: Vec<Ref> = all
        .iter()
        .map(|p| Ref {
            dt: p.dt,
            df: p.df,
            e: p.e,
        })
        .collect();
    let edges = reference_edges(o, &all_owned);
    let full = reference_bins(o, &edges, &all);
    let Some(boot) = &o.bootstrap else {
        return full
            .into_iter()
            .filter(|b| b.2 > 0)
            .map(|(dt, sf2, pairs)| SfBin {
                dt,
                sf2,
                sigma: f64::NAN,
                lower_error: f64::NAN,
                upper_error: f64::NAN,
                pairs,
            })
            .collect();
    };
    let mut rng = Rng::new(boot.seed);
    let least = per_lc.iter().map(Vec::len).min().unwrap_or(0);
    let nb = edges.len() - 1;
    let mut reps: Vec<Vec<(f64, f64, usize)>> = Vec::new();
    for _ in 0..boot.repetitions {
        let mut drawn: Vec<&Ref> = Vec::new();
        for pairs in &per_lc {
            let take = if boot.equally_weight_lightcurves {
                least
            } else {
                boot.samples_per_lightcurve.unwrap_or(pairs.len())
            };
            for _ in 0..take {
                drawn.push(&pairs[rng.below(pairs.len())]);
            }
        }
        reps.push(reference_bins(o, &edges, &drawn));
    }
    (0..nb)
        .filter(|&b| full[b].2 > 0)
        .map(|b| {
            let dts = sorted_finite(&reps.iter().map(|r| r[b].0).collect::<Vec<_>>());
            let sfs = sorted_finite(&reps.iter().map(|r| r[b].1).collect::<Vec<_>>());
            let sf2 = quantile_or_nan(&sfs, 0.5);
            let lo = quantile_or_nan(&sfs, boot.lower_quantile);
            let hi = quantile_or_nan(&sfs, boot.upper_quantile);
            SfBin {
                dt: quantile_or_nan(&dts, 0.5),
                sf2,
                sigma: (hi - lo) / 2.0,
                lower_error: sf2 - lo,
                upper_error: hi - sf2,
                pairs: full[b].2,
            }
        })
        .collect()
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(got: &[SfBin], want: &[SfBin]) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        prop_assert_eq!(g.pairs, w.pairs);
        for (x, y) in [
            (g.dt, w.dt),
            (g.sf2, w.sf2),
            (g.sigma, w.sigma),
            (g.lower_error, w.lower_error),
            (g.upper_error, w.upper_error),
        ] {
            prop_assert!(same(x, y), "{:?} vs {:?}", g, w);
        }
    }
    Ok(())
}

/// A lightcurve: sorted times on a coarse grid (repeated times and repeated lags), fluxes
/// on a grid too (ties among differences), positive errors.
fn lightcurve() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>)> {
    (0usize..28).prop_flat_map(|n| {
        (
            prop::collection::vec(0u8..4, n),
            prop::collection::vec(-20i32..20, n),
            prop::collection::vec(1u8..30, n),
        )
            .prop_map(|(steps, flux, err)| {
                let mut t = 0.0;
                let time = steps
                    .iter()
                    .map(|&s| {
                        t += s as f64 * 0.25;
                        t
                    })
                    .collect();
                let flux = flux.iter().map(|&f| f as f64 * 0.1).collect();
                let err = err.iter().map(|&e| e as f64 * 0.01).collect();
                (time, flux, err)
            })
    })
}

fn options() -> impl Strategy<Value = SfOptions> {
    let estimator = prop::sample::select(vec![
        Estimator::Basic,
        Estimator::Bauer2009a,
        Estimator::Bauer2009b,
        Estimator::Schmidt2010,
        Estimator::Macleod2012,
    ]);
    let binning = prop_oneof![
        Just(Binning::Size),
        Just(Binning::Length),
        Just(Binning::LogLength),
        Just(Binning::Edges(vec![0.0, 0.5, 1.25, 3.0])),
        Just(Binning::Edges(vec![0.2, 1e9])),
    ];
    let errors = prop_oneof![
        Just(SfErrors::Column),
        Just(SfErrors::None),
        Just(SfErrors::Scalar(0.07)),
    ];
    let bootstrap = prop::option::of(
        (
            1usize..6,
            any::<u64>(),
            any::<bool>(),
            prop::option::of(1usize..40),
        )
            .prop_map(|(repetitions, seed, equally, samples)| Bootstrap {
                repetitions,
                seed,
                equally_weight_lightcurves: equally,
                samples_per_lightcurve: samples,
                ..Bootstrap::default()
            }),
    );
    (
        estimator,
        binning,
        1usize..40,
        errors,
        any::<bool>(),
        bootstrap,
    )
        .prop_map(
            |(estimator, binning, bin_count_target, errors, ignore_timestamps, bootstrap)| {
                SfOptions {
                    estimator,
                    binning,
                    bin_count_target,
                    errors,
                    ignore_timestamps,
                    bootstrap,
                    report_bounds: true,
                }
            },
        )
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::DEFAULT),
        (0usize..300, 1usize..80, 1usize..30).prop_map(|(pairs, values, results)| Limits {
            pairs,
            values,
            results,
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn equals_the_all_pairs_reference(
        lcs in prop::collection::vec(lightcurve(), 1..4),
        options in options(),
        limits in limits(),
    ) {
        let input: Vec<SfInput<'_>> = lcs
            .iter()
            .map(|(t, f, e)| (&t[..], &f[..], Some(&e[..])))
            .collect();
        let want = reference(&input, &options);
        let got = sf2_with(&input, &options, &limits).unwrap();
        assert_same(&got, &want)?;
        // The public entry point (default limits) agrees too.
        assert_same(&sf2(&input, &options).unwrap(), &want)?;
    }

    #[test]
    fn unsorted_times_are_held_or_refused(
        lc in lightcurve(),
        swap in any::<prop::sample::Index>(),
        options in options(),
    ) {
        let (mut t, f, e) = lc;
        if t.len() >= 2 {
            let i = swap.index(t.len() - 1);
            t.swap(i, i + 1);
        }
        let input = [(&t[..], &f[..], Some(&e[..]))];
        let want = reference(&input, &options);
        assert_same(&sf2(&input, &options).unwrap(), &want)?;
        let tiny = Limits { pairs: 0, values: 1, results: 1 };
        match sf2_with(&input, &options, &tiny) {
            Ok(got) => assert_same(&got, &want)?,
            Err(e) => prop_assert!(e.to_string().contains("sorted"), "{}", e),
        }
    }
}
