//! Exact order statistics of the values in each bin of a stream that can be replayed, in
//! bounded memory (the MacLeod estimator's quartiles, when a bin's pairs are not held).
//!
//! Light bins are gathered a window of consecutive bins at a time (at most `cap` values per
//! pass) and sorted. A bin holding more than `cap` values is narrowed instead: a pass counts
//! its values in 1024 buckets of their order-preserving 64-bit keys, the bucket holding the
//! wanted rank becomes the next pass's range, and once that bucket holds few enough values
//! (or one key) a last pass gathers them and the rank is read off exactly. Time is
//! O(passes x stream); memory O(bins + cap).

/// A stream of `(bin, value)` items: every call gives the same items in the same order.
pub(super) type Replay<'a> = &'a dyn Fn(&mut dyn FnMut(usize, f64));

/// Bits of a narrowing bucket: 1024 buckets, at most 7 passes for 64 bits.
const BUCKET_BITS: u32 = 10;

/// Heavy-bin ranks narrowed together (their histograms held at once).
const GROUP: usize = 16;

/// The key of `x`: unsigned order equals `f64::total_cmp`.
#[inline]
fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

#[inline]
fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// For each bin with `counts[b] > 0` items, the values at the sorted (by `total_cmp`)
/// positions `wanted(counts[b])`, in that order; NaN for empty bins.
pub(super) fn select<const R: usize>(
    stream: Replay<'_>,
    counts: &[usize],
    wanted: impl Fn(usize) -> [usize; R],
    cap: usize,
) -> Vec<[f64; R]> {
    let cap = cap.max(GROUP);
    let mut out = vec![[f64::NAN; R]; counts.len()];
    let heavy = |b: usize| counts[b] > cap;
    // Light bins, window by window.
    let mut b0 = 0;
    while b0 < counts.len() {
        let (mut b1, mut total) = (b0, 0);
        while b1 < counts.len() && (heavy(b1) || total + counts[b1] <= cap) {
            total += if heavy(b1) { 0 } else { counts[b1] };
            b1 += 1;
        }
        if total > 0 {
            gather_window(stream, counts, b0..b1, total, &heavy, &wanted, &mut out);
        }
        b0 = b1;
    }
    // Heavy bins, GROUP ranks at a time.
    let targets: Vec<(usize, usize)> = (0..counts.len())
        .filter(|&b| heavy(b))
        .flat_map(|b| {
            let mut w = wanted(counts[b]).to_vec();
            w.sort_unstable();
            w.dedup();
            w.into_iter().map(move |r| (b, r))
        })
        .collect();
    let mut slot = vec![usize::MAX; counts.len()];
    for group in targets.chunks(GROUP) {
        let found = narrow(stream, group, &mut slot, cap / GROUP);
        for (&(b, r), v) in group.iter().zip(found) {
            let w = wanted(counts[b]);
            for (x, &p) in out[b].iter_mut().zip(&w) {
                if p == r {
                    *x = v;
                }
            }
        }
    }
    out
}

/// One pass gathering the light bins of `bins`, then each sorted and read.
fn gather_window<const R: usize>(
    stream: Replay<'_>,
    counts: &[usize],
    bins: std::ops::Range<usize>,
    total: usize,
    heavy: &dyn Fn(usize) -> bool,
    wanted: &dyn Fn(usize) -> [usize; R],
    out: &mut [[f64; R]],
) {
    let b0 = bins.start;
    let mut next: Vec<usize> = Vec::with_capacity(bins.len() + 1);
    let mut at = 0;
    for b in bins.clone() {
        next.push(at);
        at += if heavy(b) { 0 } else { counts[b] };
    }
    next.push(at);
    let starts = next.clone();
    let mut buf = vec![0.0; total];
    stream(&mut |b, v| {
        if bins.contains(&b) && !heavy(b) {
            buf[next[b - b0]] = v;
            next[b - b0] += 1;
        }
    });
    for b in bins {
        if heavy(b) || counts[b] == 0 {
            continue;
        }
        let values = &mut buf[starts[b - b0]..starts[b - b0 + 1]];
        values.sort_by(f64::total_cmp);
        out[b] = wanted(counts[b]).map(|p| values[p]);
    }
}

enum Phase {
    /// Counting keys in buckets of `1 << shift` keys from `lo`.
    Count {
        hist: Vec<usize>,
        shift: u32,
    },
    /// Gathering the values in `[lo, hi]`.
    Gather(Vec<f64>),
    Done(f64),
}

struct Target {
    bin: usize,
    /// Rank among the bin's values in `[lo, hi]`.
    rank: usize,
    lo: u64,
    hi: u64,
    phase: Phase,
}

fn counting(lo: u64, hi: u64) -> Phase {
    let width_bits = 64 - (hi - lo).leading_zeros();
    let shift = width_bits.saturating_sub(BUCKET_BITS);
    Phase::Count {
        hist: vec![0; (((hi - lo) >> shift) + 1) as usize],
        shift,
    }
}

/// The values at `(bin, rank)` of `group`, exactly, in a few passes; a target gathers its
/// values once its range holds at most `gather` of them. `slot` (all `usize::MAX`) is
/// scratch: bin -> first target of that bin in the group.
fn narrow(
    stream: Replay<'_>,
    group: &[(usize, usize)],
    slot: &mut [usize],
    gather: usize,
) -> Vec<f64> {
    let mut targets: Vec<Target> = group
        .iter()
        .map(|&(bin, rank)| Target {
            bin,
            rank,
            lo: 0,
            hi: u64::MAX,
            phase: counting(0, u64::MAX),
        })
        .collect();
    // Targets of one bin are adjacent (group is sorted by bin).
    for (k, t) in targets.iter().enumerate().rev() {
        slot[t.bin] = k;
    }
    while targets.iter().any(|t| !matches!(t.phase, Phase::Done(_))) {
        stream(&mut |b, v| {
            let first = slot[b];
            if first == usize::MAX {
                return;
            }
            let k = key(v);
            for t in targets[first..].iter_mut().take_while(|t| t.bin == b) {
                if k < t.lo || k > t.hi {
                    continue;
                }
                match &mut t.phase {
                    Phase::Count { hist, shift } => hist[((k - t.lo) >> *shift) as usize] += 1,
                    Phase::Gather(values) => values.push(v),
                    Phase::Done(_) => {}
                }
            }
        });
        for t in &mut targets {
            t.phase = match std::mem::replace(&mut t.phase, Phase::Done(f64::NAN)) {
                Phase::Count { hist, shift } => {
                    let mut below = 0;
                    let mut chosen = None;
                    for (c, &n) in hist.iter().enumerate() {
                        if t.rank < below + n {
                            chosen = Some((c as u64, n));
                            break;
                        }
                        below += n;
                    }
                    // The stream gives the same items every pass, so the rank is found.
                    let Some((c, n)) = chosen else {
                        debug_assert!(false, "rank {} beyond the bin's values", t.rank);
                        continue;
                    };
                    t.rank -= below;
                    t.lo += c << shift;
                    t.hi = t.hi.min(t.lo.saturating_add((1u64 << shift) - 1));
                    if t.lo == t.hi {
                        Phase::Done(value(t.lo))
                    } else if n <= gather {
                        Phase::Gather(Vec::with_capacity(n))
                    } else {
                        counting(t.lo, t.hi)
                    }
                }
                Phase::Gather(mut values) => {
                    values.sort_by(f64::total_cmp);
                    Phase::Done(values.get(t.rank).copied().unwrap_or(f64::NAN))
                }
                done => done,
            }
        }
    }
    for t in &targets {
        slot[t.bin] = usize::MAX;
    }
    targets
        .iter()
        .map(|t| match t.phase {
            Phase::Done(v) => v,
            _ => f64::NAN,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_total_cmp() {
        let xs = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            1e-310,
            2.5,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in xs.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{} {}", w[0], w[1]);
        }
        for x in xs {
            assert_eq!(value(key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn heavy_and_light_bins_match_sorting() {
        // Bin b gets 7 * b values with many repeats.
        let items: Vec<(usize, f64)> = (0..400)
            .map(|i| ((i * 7) % 5, ((i * 37 % 11) as f64 - 5.0) * 0.5))
            .collect();
        let stream = |f: &mut dyn FnMut(usize, f64)| items.iter().for_each(|&(b, v)| f(b, v));
        let mut counts = vec![0; 6];
        items.iter().for_each(|&(b, _)| counts[b] += 1);
        let wanted = |n: usize| [0, n / 4, n / 2, n - 1];
        for cap in [16, 50, 1000] {
            let got = select(&stream, &counts, wanted, cap);
            for (b, got) in got.iter().enumerate() {
                let mut v: Vec<f64> = items.iter().filter(|x| x.0 == b).map(|x| x.1).collect();
                v.sort_by(f64::total_cmp);
                if v.is_empty() {
                    assert!(got[0].is_nan());
                    continue;
                }
                let want = wanted(v.len()).map(|p| v[p]);
                assert_eq!(*got, want, "cap {cap}, bin {b}");
            }
        }
    }
}
