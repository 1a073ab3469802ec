//! Moment statistics: sums over the values (and their errors) in any order.
//!
//! [`Moments`] holds what the unweighted features share (count, minimum, maximum, mean and
//! the central sums of powers 2, 3 and 4), [`Weighted`] what the error-weighted ones share
//! (inverse-variance weighted mean, chi-squared about it, Stetson's absolute-deviation sum,
//! mean squared error). Each is computed in at most two passes, once per (band of a)
//! lightcurve, and every requested feature is read off them. None of these depends on the
//! order of the observations (von Neumann's eta, which does, is in `time_series`).

/// Count, extremes, mean and central power sums of a sample.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moments {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean; exactly the common value when all values are equal.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sum of squared deviations from the mean.
    pub s2: f64,
    /// Sum of cubed deviations from the mean.
    pub s3: f64,
    /// Sum of fourth powers of the deviations from the mean.
    pub s4: f64,
}

impl Moments {
    /// One pass for count, sum, minimum and maximum; a second pass for the central sums
    /// when `central` is set (otherwise they are NaN).
    ///
    /// A flat sample (all values equal) gets its mean set to that value and zero central
    /// sums, so the rounding of a summed mean cannot make it look variable.
    pub fn new(m: &[f64], central: bool) -> Self {
        let n = m.len();
        let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
        for &x in m {
            sum += x;
            min = min.min(x);
            max = max.max(x);
        }
        let mut mo = Moments {
            n,
            mean: if n == 0 { f64::NAN } else { sum / n as f64 },
            min,
            max,
            s2: f64::NAN,
            s3: f64::NAN,
            s4: f64::NAN,
        };
        if mo.is_flat() && n > 0 {
            mo.mean = min;
            (mo.s2, mo.s3, mo.s4) = (0.0, 0.0, 0.0);
        } else if central {
            let (mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0);
            for &x in m {
                let d = x - mo.mean;
                let d2 = d * d;
                s2 += d2;
                s3 += d2 * d;
                s4 += d2 * d2;
            }
            (mo.s2, mo.s3, mo.s4) = (s2, s3, s4);
        }
        mo
    }

    /// True when all values are equal (or there are none).
    pub fn is_flat(&self) -> bool {
        self.n == 0 || self.min == self.max
    }

    /// Unbiased variance `s2 / (n - 1)`.
    pub fn variance(&self) -> f64 {
        self.s2 / (self.n as f64 - 1.0)
    }

    /// Unbiased standard deviation.
    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Sample skewness `G1 = n / ((n-1)(n-2)) * s3 / sigma^3`; NaN for a flat sample.
    pub fn skew(&self) -> f64 {
        let var = self.variance();
        if self.is_flat() || var == 0.0 {
            return f64::NAN;
        }
        let n = self.n as f64;
        self.s3 / (var.sqrt() * var) * n / ((n - 1.0) * (n - 2.0))
    }

    /// Unbiased excess kurtosis
    /// `G2 = n (n+1) / ((n-1)(n-2)(n-3)) * s4 / sigma^4 - 3 (n-1)^2 / ((n-2)(n-3))`;
    /// NaN for a flat sample.
    pub fn kurtosis(&self) -> f64 {
        let var = self.variance();
        if self.is_flat() || var == 0.0 {
            return f64::NAN;
        }
        let n = self.n as f64;
        let (n1, n_1, n_2, n_3) = (n + 1.0, n - 1.0, n - 2.0, n - 3.0);
        self.s4 / (var * var) * n * n1 / (n_1 * n_2 * n_3) - 3.0 * n_1 * n_1 / (n_2 * n_3)
    }

    /// Fraction of values with `|x - mean| > k sigma`. Zero for a flat sample.
    pub fn beyond_n_std(&self, m: &[f64], k: f64) -> f64 {
        if self.is_flat() {
            return 0.0;
        }
        let threshold = self.std() * k;
        let count = m
            .iter()
            .filter(|&&x| (x - self.mean).abs() > threshold)
            .count();
        count as f64 / self.n as f64
    }
}

/// Error-weighted sums of a sample (weights `1 / err^2`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Weighted {
    /// Inverse-variance weighted mean.
    pub mean: f64,
    /// `sum ((x - mean) / err)^2`.
    pub chi2: f64,
    /// `sum |x - mean| / err` (Stetson K's numerator).
    pub abs_dev: f64,
}

impl Weighted {
    /// Two passes: weighted mean, then the sums about it. A `flat` sample (all values
    /// equal) has exactly that value as its mean and zero sums.
    pub fn new(m: &[f64], err: &[f64], flat: bool) -> Self {
        if flat {
            return Weighted {
                mean: m.first().copied().unwrap_or(f64::NAN),
                chi2: 0.0,
                abs_dev: 0.0,
            };
        }
        let (mut sw, mut swm) = (0.0, 0.0);
        for (&x, &e) in m.iter().zip(err) {
            let w = 1.0 / (e * e);
            sw += w;
            swm += w * x;
        }
        let mean = swm / sw;
        let (mut chi2, mut abs_dev) = (0.0, 0.0);
        for (&x, &e) in m.iter().zip(err) {
            let z = (x - mean) / e;
            chi2 += z * z;
            abs_dev += z.abs();
        }
        Weighted {
            mean,
            chi2,
            abs_dev,
        }
    }

    /// All NaN (nothing requested, or no points).
    pub fn nan() -> Self {
        Weighted {
            mean: f64::NAN,
            chi2: f64::NAN,
            abs_dev: f64::NAN,
        }
    }

    /// Reduced chi-squared about the weighted mean: `chi2 / (n - 1)`.
    pub fn reduced_chi2(&self, n: usize) -> f64 {
        self.chi2 / (n as f64 - 1.0)
    }

    /// Stetson K: `sum |x - mean| / err / sqrt(n chi2)`; NaN when `chi2` is zero or the
    /// sample is flat.
    pub fn stetson_k(&self, n: usize, flat: bool) -> f64 {
        if flat || self.chi2 == 0.0 {
            return f64::NAN;
        }
        self.abs_dev / (n as f64 * self.chi2).sqrt()
    }
}

/// Mean squared error `sum err^2 / n`.
pub(super) fn mean_err2(err: &[f64]) -> f64 {
    err.iter().map(|e| e * e).sum::<f64>() / err.len() as f64
}

/// Excess variance `(sigma^2 - <err^2>) / mean^2`.
pub(super) fn excess_variance(mo: &Moments, mean_err2: f64) -> f64 {
    (mo.variance() - mean_err2) / (mo.mean * mo.mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        let m = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mo = Moments::new(&m, true);
        assert_eq!(mo.mean, 2.0);
        assert!((mo.std() - 1.5811388300841898).abs() < 1e-15);
        assert!((mo.kurtosis() + 1.2).abs() < 1e-12);
        let mo = Moments::new(&[2.0, 3.0, 5.0, 7.0, 11.0, 13.0], true);
        assert!((mo.skew() - 0.4626804756753222).abs() < 1e-12);
        let m = [1.0, 2.0, 3.0, 4.0, 100.0];
        let mo = Moments::new(&m, true);
        assert_eq!(mo.beyond_n_std(&m, 1.0), 0.2);
        assert_eq!(mo.beyond_n_std(&m, 2.0), 0.0);
    }

    #[test]
    fn weighted_closed_forms() {
        let m = [1.0, 2.0, 1.0, 0.0, -1.0, 0.0, 1.0, 2.0, -2.0, 0.0];
        // light-curve's test gives weights; errors are their inverse square roots.
        let w = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0];
        let e: Vec<f64> = w.iter().map(|w: &f64| 1.0 / w.sqrt()).collect();
        let wt = Weighted::new(&m, &e, false);
        assert!((wt.reduced_chi2(m.len()) - 2.192592592592593).abs() < 1e-12);
        // Square wave: K = 1.
        let m: Vec<f64> = (0..1000)
            .map(|i| if i < 500 { 1.0 } else { -1.0 })
            .collect();
        let e = vec![1.0; 1000];
        let wt = Weighted::new(&m, &e, false);
        assert!((wt.stetson_k(1000, false) - 1.0).abs() < 1e-12);
        // Excess variance example.
        let m = [1.0, 1.0, 1.0, 1.0, 5.0, 6.0, 6.0, 6.0, 7.0];
        let w = [1.0, 0.5, 1.0, 2.0, 0.5, 2.0, 1.0, 1.0, 0.5];
        let e: Vec<f64> = w.iter().map(|w: &f64| 1.0 / w.sqrt()).collect();
        let ev = excess_variance(&Moments::new(&m, true), mean_err2(&e));
        assert!((ev - 0.41846885813148793).abs() < 1e-12, "{ev}");
    }

    #[test]
    fn flat_samples() {
        let m = [0.1; 7];
        let mo = Moments::new(&m, true);
        assert!(mo.is_flat());
        assert_eq!(mo.mean, 0.1);
        assert_eq!(mo.std(), 0.0);
        assert!(mo.skew().is_nan() && mo.kurtosis().is_nan());
        assert_eq!(mo.beyond_n_std(&m, 1.0), 0.0);
        let wt = Weighted::new(&m, &[0.2; 7], true);
        assert!(wt.stetson_k(7, true).is_nan());
    }
}
