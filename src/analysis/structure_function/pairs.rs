//! The pairs of a pool of lightcurves (one lightcurve and band, or every lightcurve of a band
//! pooled): each pair `(dt, df, E)` of a lightcurve, i < j with dt > 0, in the order
//! (lightcurve, i, j). A pool holds its pairs only while they fit a budget; beyond it they
//! are generated again for every pass, so memory does not grow with the number of pairs.

use super::MIN_OBSERVATIONS;
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

/// One lightcurve of a pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lc<'a> {
    /// Times; `None`: the observation index (timestamps ignored).
    pub time: Option<&'a [f64]>,
    /// Fluxes.
    pub flux: &'a [f64],
    /// Errors; `None`: `scalar2` for every observation.
    pub err: Option<&'a [f64]>,
    /// The squared error used without an error column.
    pub scalar2: f64,
}

impl Lc<'_> {
    #[inline]
    fn t(&self, i: usize) -> f64 {
        self.time.map_or(i as f64, |t| t[i])
    }

    #[inline]
    fn e(&self, i: usize) -> f64 {
        self.err.map_or(self.scalar2, |e| e[i] * e[i])
    }

    #[inline]
    fn pair(&self, i: usize, j: usize) -> (f64, f64, f64) {
        (
            self.t(j) - self.t(i),
            self.flux[j] - self.flux[i],
            self.e(i) + self.e(j),
        )
    }

    /// Finite non-decreasing times (or none): then the partners j of i with dt > 0 are
    /// `first(i)..n`, and dt grows with j (subtraction rounds monotonically).
    fn sorted(&self) -> bool {
        self.time.is_none_or(|t| {
            t[..self.flux.len()].iter().all(|x| x.is_finite())
                && t[..self.flux.len()].windows(2).all(|w| w[0] <= w[1])
        })
    }

    /// The first partner of `i` (for sorted times): for finite times, `t_j - t_i > 0`
    /// exactly when `t_j > t_i`.
    #[inline]
    fn first(&self, i: usize) -> usize {
        let n = self.flux.len();
        match self.time {
            None => i + 1,
            Some(t) => i + 1 + t[i + 1..n].partition_point(|&x| x <= t[i]),
        }
    }

    /// Pairs, by rows (sorted times).
    fn count_sorted(&self) -> usize {
        let n = self.flux.len();
        if n < MIN_OBSERVATIONS {
            return 0;
        }
        (0..n).map(|i| n - self.first(i)).sum()
    }

    /// Pairs, by testing every one (any order of times).
    fn count_any(&self) -> usize {
        let n = self.flux.len();
        if n < MIN_OBSERVATIONS {
            return 0;
        }
        (0..n)
            .map(|i| (i + 1..n).filter(|&j| self.t(j) - self.t(i) > 0.0).count())
            .sum()
    }

    /// Every pair, in order (sorted times).
    #[inline]
    fn for_each(&self, f: &mut dyn FnMut(f64, f64, f64)) {
        let n = self.flux.len();
        for i in 0..n {
            let (ti, fi, ei) = (self.t(i), self.flux[i], self.e(i));
            for j in self.first(i)..n {
                f(self.t(j) - ti, self.flux[j] - fi, ei + self.e(j));
            }
        }
    }
}

/// Pairs held in memory.
#[derive(Debug, Default)]
pub(super) struct Pairs {
    dt: Vec<f64>,
    df: Vec<f64>,
    e: Vec<f64>,
    /// Start of each lightcurve's pairs.
    starts: Vec<usize>,
}

impl Pairs {
    fn clear(&mut self) {
        self.dt.clear();
        self.df.clear();
        self.e.clear();
        self.starts.clear();
    }

    /// Adds the pairs (i < j, t_j > t_i) of one lightcurve, testing each (any time order).
    fn add(&mut self, lc: &Lc<'_>) {
        self.starts.push(self.dt.len());
        let n = lc.flux.len();
        for i in 0..n {
            for j in i + 1..n {
                let (dt, df, e) = lc.pair(i, j);
                if dt > 0.0 {
                    self.dt.push(dt);
                    self.df.push(df);
                    self.e.push(e);
                }
            }
        }
    }
}

/// How much a pool may hold; the defaults bound a pool's extra memory by a few tens of MB
/// whatever its number of pairs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Pairs held in memory (24 bytes each); more are generated again for each pass.
    pub pairs: usize,
    /// Values held at once to find a bin's order statistics exactly (8 bytes each).
    pub values: usize,
    /// Bootstrap results held at once, bins x repetitions (16 bytes each); more bins are
    /// done in turns, each replaying every repetition's draws.
    pub results: usize,
}

impl Limits {
    /// 2^18 pairs (6 MB), 2^18 values (2 MB), 2^19 results (8 MB).
    pub(crate) const DEFAULT: Limits = Limits {
        pairs: 1 << 18,
        values: 1 << 18,
        results: 1 << 19,
    };
}

/// The lightcurves of a pool with at least one pair, their pair counts, and the pairs
/// themselves when they fit [`Limits::pairs`].
#[derive(Debug)]
pub(super) struct Pool<'a> {
    lcs: Vec<Lc<'a>>,
    counts: Vec<usize>,
    stored: Option<Pairs>,
}

impl<'a> Pool<'a> {
    /// A pool of `lcs`; `buffer` is reused for stored pairs. Times that are not finite and
    /// sorted (possible only through [`super::sf2`]) need the pairs stored, and fail beyond
    /// the budget.
    pub(super) fn new(
        lcs: impl IntoIterator<Item = Lc<'a>>,
        limits: &Limits,
        mut buffer: Pairs,
    ) -> Result<Self> {
        let (mut kept, mut counts, mut unsorted) = (Vec::new(), Vec::new(), false);
        for lc in lcs {
            let sorted = lc.sorted();
            let n = if sorted {
                lc.count_sorted()
            } else {
                lc.count_any()
            };
            if n > 0 {
                unsorted |= !sorted;
                kept.push(lc);
                counts.push(n);
            }
        }
        let total: usize = counts.iter().sum();
        let stored = if total <= limits.pairs || unsorted {
            if total > limits.pairs {
                return Err(Error::InvalidArgument(format!(
                    "structure function of {total} pairs: times must be finite and sorted \
                     beyond {} pairs (the most held in memory)",
                    limits.pairs
                )));
            }
            buffer.clear();
            kept.iter().for_each(|lc| buffer.add(lc));
            Some(buffer)
        } else {
            None
        };
        Ok(Pool {
            lcs: kept,
            counts,
            stored,
        })
    }

    /// The stored pairs' buffer, for reuse.
    pub(super) fn into_buffer(self) -> Pairs {
        self.stored.unwrap_or_default()
    }

    /// Pairs of each lightcurve (all non-zero).
    pub(super) fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// Lags of the stored pairs, if stored.
    pub(super) fn stored_lags(&self) -> Option<&[f64]> {
        self.stored.as_ref().map(|p| &p.dt[..])
    }

    /// Calls `f(dt, df, E)` for every pair, in order.
    pub(super) fn for_each(&self, f: &mut dyn FnMut(f64, f64, f64)) {
        match &self.stored {
            Some(p) => {
                for k in 0..p.dt.len() {
                    f(p.dt[k], p.df[k], p.e[k]);
                }
            }
            None => self.lcs.iter().for_each(|lc| lc.for_each(f)),
        }
    }

    /// One bootstrap repetition: from each lightcurve `take(its pairs)` pairs drawn with
    /// replacement (`rng.below`, lightcurve by lightcurve), `f` called on each in draw order.
    pub(super) fn draws(
        &self,
        rng: &mut Rng,
        take: &dyn Fn(usize) -> usize,
        f: &mut dyn FnMut(f64, f64, f64),
    ) {
        // Rows with partners: (first pair index, row, first partner), to find a drawn pair
        // from its index without holding the pairs.
        let mut rows: Vec<(usize, usize, usize)> = Vec::new();
        for (k, (lc, &n)) in self.lcs.iter().zip(&self.counts).enumerate() {
            let draws = take(n);
            if let Some(p) = &self.stored {
                let start = p.starts[k];
                for _ in 0..draws {
                    let at = start + rng.below(n);
                    f(p.dt[at], p.df[at], p.e[at]);
                }
                continue;
            }
            rows.clear();
            let mut start = 0;
            for i in 0..lc.flux.len() {
                let first = lc.first(i);
                if first < lc.flux.len() {
                    rows.push((start, i, first));
                    start += lc.flux.len() - first;
                }
            }
            for _ in 0..draws {
                let at = rng.below(n);
                let (s, i, first) = rows[rows.partition_point(|r| r.0 <= at) - 1];
                let (dt, df, e) = lc.pair(i, first + (at - s));
                f(dt, df, e);
            }
        }
    }

    /// The smallest and largest lag (not stored: each row's lags grow with j).
    pub(super) fn lag_range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for lc in &self.lcs {
            let n = lc.flux.len();
            for i in 0..n {
                let first = lc.first(i);
                if first < n {
                    lo = lo.min(lc.t(first) - lc.t(i));
                    hi = hi.max(lc.t(n - 1) - lc.t(i));
                }
            }
        }
        (lo, hi)
    }

    /// Calls `f` on every lag in ascending order (not stored): a merge of the rows, each
    /// already ascending, holding one cursor per row.
    pub(super) fn for_each_sorted_lag(&self, f: &mut dyn FnMut(f64)) {
        // Lags are > 0 and not NaN, so their bit patterns order like their values.
        let mut heap = BinaryHeap::new();
        for (k, lc) in self.lcs.iter().enumerate() {
            for i in 0..lc.flux.len() {
                let j = lc.first(i);
                if j < lc.flux.len() {
                    heap.push(Reverse(((lc.t(j) - lc.t(i)).to_bits(), k, i, j)));
                }
            }
        }
        while let Some(mut top) = heap.peek_mut() {
            let Reverse((bits, k, i, j)) = *top;
            f(f64::from_bits(bits));
            let lc = &self.lcs[k];
            if j + 1 < lc.flux.len() {
                *top = Reverse(((lc.t(j + 1) - lc.t(i)).to_bits(), k, i, j + 1));
            } else {
                PeekMut::pop(top);
            }
        }
    }
}
