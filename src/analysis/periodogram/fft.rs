//! A small in-place complex FFT for power-of-two sizes: iterative decimation in frequency
//! (two radix-2 stages per pass), output left in bit-reversed order.
//!
//! Twiddle factors are computed with `sin_cos` (not by recurrence), stored stage by stage
//! so each stage reads them contiguously, and cached per thread for the largest size seen
//! up to [`KEEP_MAX`] points (a smaller size uses a prefix of the table), so repeated
//! transforms cost no trigonometry.

use std::cell::RefCell;
use std::f64::consts::PI;
use std::ops::{Add, Mul, Sub};

/// A complex number in Cartesian form.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    #[inline(always)]
    pub fn new(re: f64, im: f64) -> Self {
        Complex { re, im }
    }

    /// `e^{i angle}`.
    #[inline(always)]
    pub fn cis(angle: f64) -> Self {
        let (s, c) = angle.sin_cos();
        Complex { re: c, im: s }
    }

    #[inline(always)]
    pub fn scale(self, k: f64) -> Self {
        Complex {
            re: self.re * k,
            im: self.im * k,
        }
    }
}

impl Add for Complex {
    type Output = Complex;
    #[inline(always)]
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    #[inline(always)]
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    #[inline(always)]
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

/// Sign of the exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `X_k = sum_m x_m e^{-2 pi i k m / n}`.
    #[cfg_attr(not(test), allow(dead_code))]
    Forward,
    /// `X_k = sum_m x_m e^{+2 pi i k m / n}` (not divided by `n`).
    Inverse,
}

thread_local! {
    /// Twiddle factors (real and imaginary parts) of every stage, for the largest size this
    /// thread has needed: stage `len` (2, 4, 8, ...) holds `e^{-2 pi i j / len}`,
    /// `j < len / 2`, at offset `len / 2 - 1`. A smaller size uses a prefix.
    static TWIDDLES: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn twiddle_table(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut re = Vec::with_capacity(n.saturating_sub(1));
    let mut im = Vec::with_capacity(n.saturating_sub(1));
    let mut len = 2;
    while len <= n {
        for j in 0..len / 2 {
            let w = Complex::cis(-2.0 * PI * j as f64 / len as f64);
            re.push(w.re);
            im.push(w.im);
        }
        len <<= 1;
    }
    (re, im)
}

/// Position of element `i` of an `n`-point transform (`n` a power of two) in the
/// bit-reversed order [`fft_bit_reversed`] leaves its output in.
#[inline(always)]
pub(crate) fn bit_reverse(i: usize, n: usize) -> usize {
    if n <= 1 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - n.trailing_zeros())
    }
}

/// Transforms the complex sequence `re + i im` (natural order) in place, leaving the
/// result in bit-reversed order: `X_k` ends up at index [`bit_reverse`]`(k, n)`. Callers
/// that read only some `X_k` so skip the permutation pass. The length must be a power of
/// two (1 included). Real and imaginary parts are kept in separate arrays so the
/// butterflies vectorize without shuffles.
///
/// # Panics
/// When the length is not a power of two or the two parts differ in length.
pub(crate) fn fft_bit_reversed(re: &mut [f64], im: &mut [f64], direction: Direction) {
    let n = re.len();
    assert_eq!(n, im.len(), "real and imaginary parts differ in length");
    assert!(n.is_power_of_two(), "FFT length {n} is not a power of two");
    if n == 1 {
        return;
    }
    if n > KEEP_MAX {
        // Too large to keep per thread: a table for this call only.
        let (tr, ti) = twiddle_table(n);
        run(re, im, &tr, &ti, direction);
        return;
    }
    TWIDDLES.with(|cell| {
        let mut table = cell.borrow_mut();
        if table.0.len() < n - 1 {
            *table = twiddle_table(n);
        }
        run(re, im, &table.0, &table.1, direction);
    })
}

/// Largest transform whose twiddle table is kept per thread (16 MiB).
pub(crate) const KEEP_MAX: usize = 1 << 20;

fn run(re: &mut [f64], im: &mut [f64], tr: &[f64], ti: &[f64], direction: Direction) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { transform_avx2(re, im, tr, ti, direction) };
            return;
        }
    }
    transform(re, im, tr, ti, direction);
}

/// The same code compiled for AVX2: the same operations (no FMA contraction), so the same
/// results bit for bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transform_avx2(
    re: &mut [f64],
    im: &mut [f64],
    tr: &[f64],
    ti: &[f64],
    direction: Direction,
) {
    transform(re, im, tr, ti, direction)
}

/// Decimation in frequency (Gentleman-Sande): stage `L` (from `n` down to 2) maps
/// `(x_j, x_{j+L/2})` to `(x_j + x_{j+L/2}, (x_j - x_{j+L/2}) w_L^j)` in each block of `L`;
/// two stages per pass.
#[inline(always)]
fn transform(re: &mut [f64], im: &mut [f64], tr: &[f64], ti: &[f64], direction: Direction) {
    let n = re.len();
    // The inverse transform uses the conjugate twiddles.
    let sign = if direction == Direction::Inverse {
        -1.0
    } else {
        1.0
    };
    // Stages 4q and 2q in one pass. Stage 4q pairs (j, j+2q) with w_{4q}^j and
    // (j+q, j+3q) with w_{4q}^{j+q} = -i w_{4q}^j (+i for the inverse); stage 2q pairs
    // (j, j+q) and (j+2q, j+3q) with w_{2q}^j.
    let mut q = n / 4;
    while q >= 1 {
        let (w1r, w1i) = (&tr[q - 1..2 * q - 1], &ti[q - 1..2 * q - 1]);
        let (w2r, w2i) = (&tr[2 * q - 1..3 * q - 1], &ti[2 * q - 1..3 * q - 1]);
        for (br, bi) in re.chunks_exact_mut(4 * q).zip(im.chunks_exact_mut(4 * q)) {
            let (r01, r23) = br.split_at_mut(2 * q);
            let (r0, r1) = r01.split_at_mut(q);
            let (r2, r3) = r23.split_at_mut(q);
            let (i01, i23) = bi.split_at_mut(2 * q);
            let (i0, i1) = i01.split_at_mut(q);
            let (i2, i3) = i23.split_at_mut(q);
            let r3 = &mut r3[..q];
            let i3 = &mut i3[..q];
            for j in 0..q {
                let (c1, s1) = (w1r[j], sign * w1i[j]);
                let (c2, s2) = (w2r[j], sign * w2i[j]);
                // stage 4q
                let (b0r, b0i) = (r0[j] + r2[j], i0[j] + i2[j]);
                let (d2r, d2i) = (r0[j] - r2[j], i0[j] - i2[j]);
                let (b1r, b1i) = (r1[j] + r3[j], i1[j] + i3[j]);
                let (d3r, d3i) = (r1[j] - r3[j], i1[j] - i3[j]);
                let b2r = d2r * c2 - d2i * s2;
                let b2i = d2r * s2 + d2i * c2;
                let u3r = d3r * c2 - d3i * s2;
                let u3i = d3r * s2 + d3i * c2;
                // times -i (forward) or +i (inverse)
                let (b3r, b3i) = (sign * u3i, -sign * u3r);
                // stage 2q
                r0[j] = b0r + b1r;
                i0[j] = b0i + b1i;
                let (e1r, e1i) = (b0r - b1r, b0i - b1i);
                r1[j] = e1r * c1 - e1i * s1;
                i1[j] = e1r * s1 + e1i * c1;
                r2[j] = b2r + b3r;
                i2[j] = b2i + b3i;
                let (e3r, e3i) = (b2r - b3r, b2i - b3i);
                r3[j] = e3r * c1 - e3i * s1;
                i3[j] = e3r * s1 + e3i * c1;
            }
        }
        q /= 4;
    }
    if n.trailing_zeros() % 2 == 1 {
        // An odd number of stages: the last one (L = 2, twiddle 1) on its own.
        for (r, i) in re.chunks_exact_mut(2).zip(im.chunks_exact_mut(2)) {
            let (ar, ai, br, bi) = (r[0], i[0], r[1], i[1]);
            r[0] = ar + br;
            i[0] = ai + bi;
            r[1] = ar - br;
            i[1] = ai - bi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[Complex], direction: Direction) -> Vec<Complex> {
        let n = x.len();
        let sign = if direction == Direction::Forward {
            -1.0
        } else {
            1.0
        };
        (0..n)
            .map(|k| {
                x.iter().enumerate().fold(Complex::ZERO, |acc, (m, &v)| {
                    // k * m reduced modulo n keeps the angle small and exact.
                    let km = (k * m) % n;
                    acc + v * Complex::cis(sign * 2.0 * PI * km as f64 / n as f64)
                })
            })
            .collect()
    }

    fn signal(n: usize) -> Vec<Complex> {
        // Deterministic, irregular values.
        (0..n)
            .map(|i| {
                let a = (i as f64 * 0.7548776662).fract() - 0.5;
                let b = (i as f64 * 0.5698402910 + 0.3).fract() - 0.5;
                Complex::new(a, b)
            })
            .collect()
    }

    /// The transform on an array of complex numbers, in natural order.
    fn fft_c(x: &mut [Complex], direction: Direction) {
        let n = x.len();
        let mut re: Vec<f64> = x.iter().map(|v| v.re).collect();
        let mut im: Vec<f64> = x.iter().map(|v| v.im).collect();
        fft_bit_reversed(&mut re, &mut im, direction);
        for (k, v) in x.iter_mut().enumerate() {
            let m = bit_reverse(k, n);
            *v = Complex::new(re[m], im[m]);
        }
    }

    fn max_err(a: &[Complex], b: &[Complex]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x.re - y.re).hypot(x.im - y.im))
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_naive_dft_both_directions() {
        for log2 in 0..=10 {
            let n = 1usize << log2;
            let x = signal(n);
            for dir in [Direction::Forward, Direction::Inverse] {
                let mut y = x.clone();
                fft_c(&mut y, dir);
                let err = max_err(&y, &naive(&x, dir));
                assert!(err < 1e-12 * n as f64, "n {n} {dir:?}: {err}");
            }
        }
    }

    #[test]
    fn inverse_of_forward_is_n_times_identity() {
        let n = 4096;
        let x = signal(n);
        let mut y = x.clone();
        fft_c(&mut y, Direction::Forward);
        fft_c(&mut y, Direction::Inverse);
        let y: Vec<Complex> = y.iter().map(|v| v.scale(1.0 / n as f64)).collect();
        assert!(max_err(&x, &y) < 1e-14, "{}", max_err(&x, &y));
    }

    #[test]
    fn smaller_sizes_reuse_a_larger_table() {
        // Build the table for 1024 first, then transform 8 points with it.
        let mut big = signal(1024);
        fft_c(&mut big, Direction::Forward);
        let x = signal(8);
        let mut y = x.clone();
        fft_c(&mut y, Direction::Forward);
        assert!(max_err(&y, &naive(&x, Direction::Forward)) < 1e-14);
    }

    #[test]
    fn single_tone_lands_in_one_bin() {
        let n = 64;
        let k0 = 5;
        let x: Vec<Complex> = (0..n)
            .map(|m| Complex::cis(2.0 * PI * (k0 * m) as f64 / n as f64))
            .collect();
        let mut y = x;
        fft_c(&mut y, Direction::Forward);
        for (k, v) in y.iter().enumerate() {
            let expect = if k == k0 { n as f64 } else { 0.0 };
            assert!(
                (v.re - expect).abs() < 1e-12 && v.im.abs() < 1e-12,
                "bin {k}: {v:?}"
            );
        }
    }

    #[test]
    fn avx2_and_portable_transforms_are_bit_identical() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            for n in [2usize, 8, 32, 512] {
                let x = signal(n);
                let (tr, ti) = twiddle_table(n);
                for dir in [Direction::Forward, Direction::Inverse] {
                    let mut a: (Vec<f64>, Vec<f64>) = (
                        x.iter().map(|v| v.re).collect(),
                        x.iter().map(|v| v.im).collect(),
                    );
                    let mut b = a.clone();
                    transform(&mut a.0, &mut a.1, &tr, &ti, dir);
                    // SAFETY: AVX2 checked above.
                    unsafe { transform_avx2(&mut b.0, &mut b.1, &tr, &ti, dir) };
                    let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!((bits(&a.0), bits(&a.1)), (bits(&b.0), bits(&b.1)), "n {n}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "not a power of two")]
    fn rejects_other_lengths() {
        let (mut re, mut im) = (vec![0.0; 12], vec![0.0; 12]);
        fft_bit_reversed(&mut re, &mut im, Direction::Forward);
    }
}
