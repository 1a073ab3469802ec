//! The direct O(N x F) trigonometric sums of the Lomb-Scargle periodogram.
//!
//! For each frequency `w_i = start + i * step` it accumulates, over the points,
//! `sum y cos(w t)`, `sum y sin(w t)`, `sum cos(2 w t)` and `sum sin(2 w t)`. Each point's
//! `(cos, sin)` moves to the next frequency by one complex rotation by `e^{i step t}`, and
//! is recomputed exactly with `sin_cos` every [`RESYNC`] frequencies so rounding cannot
//! accumulate. Points are processed in [`LANES`] independent lanes (the arrays are padded
//! with zeros, which add nothing to any sum); an AVX2 build of the same code is used where
//! the CPU has it and gives bit-identical results (same operations, no FMA contraction).

use super::power::Sums;

/// Independent accumulators per sum.
pub(crate) const LANES: usize = 8;
/// Frequencies between exact recomputations of each point's phase.
pub(crate) const RESYNC: usize = 256;

/// Per-point state, padded to a multiple of [`LANES`].
pub(crate) struct Points {
    /// Centred values (zero in the padding).
    y: Vec<f64>,
    /// Times relative to the first.
    t: Vec<f64>,
    /// cos / sin of the current frequency times t.
    c: Vec<f64>,
    s: Vec<f64>,
    /// cos / sin of the frequency step times t.
    cr: Vec<f64>,
    sr: Vec<f64>,
}

impl Points {
    pub(crate) fn new(t: &[f64], y: &[f64], step: f64) -> Self {
        let n = t.len();
        let padded = n.div_ceil(LANES) * LANES;
        let mut p = Points {
            y: vec![0.0; padded],
            t: vec![0.0; padded],
            c: vec![0.0; padded],
            s: vec![0.0; padded],
            cr: vec![0.0; padded],
            sr: vec![0.0; padded],
        };
        p.y[..n].copy_from_slice(y);
        p.t[..n].copy_from_slice(t);
        for ((&tj, cr), sr) in t.iter().zip(&mut p.cr).zip(&mut p.sr) {
            let (s, c) = (step * tj).sin_cos();
            *cr = c;
            *sr = s;
        }
        p
    }

    /// Sets each point's phase to `w * t` exactly (padding stays zero).
    fn resync(&mut self, w: f64, n: usize) {
        for j in 0..n {
            let (s, c) = (w * self.t[j]).sin_cos();
            self.c[j] = c;
            self.s[j] = s;
        }
    }
}

/// Sums for frequencies `start + i * step`, `i < out.len()`; `n` real points in `p`.
pub(crate) fn sums(p: &mut Points, n: usize, start: f64, step: f64, out: &mut [Sums]) {
    for (b, block) in out.chunks_mut(RESYNC).enumerate() {
        p.resync(start + (b * RESYNC) as f64 * step, n);
        run_block(p, block);
    }
}

fn run_block(p: &mut Points, out: &mut [Sums]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { block_avx2(p, out) };
            return;
        }
    }
    block_kernel(p, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_avx2(p: &mut Points, out: &mut [Sums]) {
    block_kernel(p, out)
}

/// The hot loop: frequencies outer, points inner (independent across points, so the
/// lanes vectorize); then each point rotates to the next frequency.
#[inline(always)]
fn block_kernel(p: &mut Points, out: &mut [Sums]) {
    let Points {
        y, c, s, cr, sr, ..
    } = p;
    for o in out.iter_mut() {
        let mut yc = [0.0f64; LANES];
        let mut ys = [0.0f64; LANES];
        let mut c2 = [0.0f64; LANES];
        let mut sc = [0.0f64; LANES];
        for ((((c, s), cr), sr), y) in c
            .chunks_exact_mut(LANES)
            .zip(s.chunks_exact_mut(LANES))
            .zip(cr.chunks_exact(LANES))
            .zip(sr.chunks_exact(LANES))
            .zip(y.chunks_exact(LANES))
        {
            for l in 0..LANES {
                let (cv, sv) = (c[l], s[l]);
                yc[l] += y[l] * cv;
                ys[l] += y[l] * sv;
                c2[l] += cv * cv - sv * sv;
                sc[l] += cv * sv;
                c[l] = cv * cr[l] - sv * sr[l];
                s[l] = sv * cr[l] + cv * sr[l];
            }
        }
        *o = Sums {
            yc: reduce(&yc),
            ys: reduce(&ys),
            c2: reduce(&c2),
            s2: 2.0 * reduce(&sc),
        };
    }
}

/// Pairwise sum of the lanes in a fixed order.
#[inline(always)]
fn reduce(a: &[f64; LANES]) -> f64 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..n)
            .map(|j| j as f64 * 1.7 + (j as f64 * 0.618).fract() * 3.0)
            .collect();
        let y: Vec<f64> = t.iter().map(|&x| (0.37 * x).sin() + 0.1).collect();
        (t, y)
    }

    fn naive(t: &[f64], y: &[f64], w: f64) -> Sums {
        let mut r = Sums::default();
        for (&tj, &yj) in t.iter().zip(y) {
            let (s, c) = (w * tj).sin_cos();
            let (s2, c2) = (2.0 * w * tj).sin_cos();
            r.yc += yj * c;
            r.ys += yj * s;
            r.c2 += c2;
            r.s2 += s2;
        }
        r
    }

    #[test]
    fn rotation_matches_exact_phases_across_resyncs() {
        for n in [1, 7, 8, 9, 61] {
            let (t, y) = data(n);
            let (start, step) = (0.013, 0.0021);
            let mut out = vec![Sums::default(); 2 * RESYNC + 17];
            let mut p = Points::new(&t, &y, step);
            sums(&mut p, n, start, step, &mut out);
            for (i, o) in out.iter().enumerate() {
                let want = naive(&t, &y, start + i as f64 * step);
                for (a, b) in [
                    (o.yc, want.yc),
                    (o.ys, want.ys),
                    (o.c2, want.c2),
                    (o.s2, want.s2),
                ] {
                    assert!((a - b).abs() < 1e-11 * n as f64, "n {n} i {i}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn avx2_and_portable_kernels_are_bit_identical() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let (t, y) = data(37);
            let step = 0.003;
            let mut a = Points::new(&t, &y, step);
            let mut b = Points::new(&t, &y, step);
            a.resync(0.1, 37);
            b.resync(0.1, 37);
            let mut oa = vec![Sums::default(); 50];
            let mut ob = vec![Sums::default(); 50];
            block_kernel(&mut a, &mut oa);
            // SAFETY: AVX2 checked above.
            unsafe { block_avx2(&mut b, &mut ob) };
            for (x, y) in oa.iter().zip(&ob) {
                assert_eq!(
                    [x.yc, x.ys, x.c2, x.s2].map(f64::to_bits),
                    [y.yc, y.ys, y.c2, y.s2].map(f64::to_bits)
                );
            }
        }
    }
}
