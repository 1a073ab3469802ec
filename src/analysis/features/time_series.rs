//! Features that depend on the order of the observations or on their times.
//!
//! Von Neumann's eta (successive differences), the maximum slope between successive
//! observations and the weighted straight-line fit. A feature set containing any of them
//! declares `Role::Time`, so the engine hands each lightcurve out in time order (ties keep
//! their row order); within a band the order is kept when the set groups by band.

use super::moments::Moments;

/// Von Neumann's eta: `sum (x[i+1] - x[i])^2 / ((n - 1) sigma^2)` with the unbiased
/// variance, in the given order; NaN for a flat sample.
pub(super) fn eta(m: &[f64], mo: &Moments) -> f64 {
    let var = mo.variance();
    if mo.is_flat() || var == 0.0 {
        return f64::NAN;
    }
    let sum: f64 = m.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).sum();
    sum / (mo.n as f64 - 1.0) / var
}

/// Largest `|dm / dt|` between successive observations, skipping pairs where it is not
/// finite (equal times); NaN when no pair is left (light-curve panics there).
pub(super) fn maximum_slope(t: &[f64], m: &[f64]) -> f64 {
    let mut best = f64::NAN;
    for (tw, mw) in t.windows(2).zip(m.windows(2)) {
        let s = ((mw[1] - mw[0]) / (tw[1] - tw[0])).abs();
        if s.is_finite() && (best.is_nan() || s > best) {
            best = s;
        }
    }
    best
}

/// Weighted least-squares straight line `m = c + slope t` with weights `1 / err^2`:
/// `[slope, slope error, reduced chi2]`.
///
/// The slope error is `1 / sqrt(sum w (t - t_w)^2)` (errors taken as known) and the
/// reduced chi-squared is `sum w (m - c - slope t)^2 / (n - 2)`, where `t_w` is the
/// weighted mean time. Times and values are centred on their weighted means before the
/// sums (the same fit as light-curve's, with less cancellation for MJD-sized times). All
/// three are NaN when every time is equal.
pub(super) fn linear_fit(t: &[f64], m: &[f64], err: &[f64]) -> [f64; 3] {
    let n = m.len();
    let (mut s, mut st, mut sm) = (0.0, 0.0, 0.0);
    let (mut t_min, mut t_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for ((&ti, &mi), &e) in t.iter().zip(m).zip(err) {
        let w = 1.0 / (e * e);
        s += w;
        st += w * ti;
        sm += w * mi;
        t_min = t_min.min(ti);
        t_max = t_max.max(ti);
    }
    if n == 0 || t_min == t_max {
        return [f64::NAN; 3];
    }
    let (t0, m0) = (st / s, sm / s);
    let (mut stt, mut stm) = (0.0, 0.0);
    for ((&ti, &mi), &e) in t.iter().zip(m).zip(err) {
        let w = 1.0 / (e * e);
        let dt = ti - t0;
        stt += w * dt * dt;
        stm += w * dt * (mi - m0);
    }
    let slope = stm / stt;
    let mut chi2 = 0.0;
    for ((&ti, &mi), &e) in t.iter().zip(m).zip(err) {
        let r = (mi - m0 - slope * (ti - t0)) / e;
        chi2 += r * r;
    }
    [slope, (1.0 / stt).sqrt(), chi2 / (n as f64 - 2.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_closed_form() {
        let m = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 109.0];
        let e = eta(&m, &Moments::new(&m, true));
        assert!((e - 1.11338).abs() < 1e-5, "{e}");
        let flat = [3.0; 4];
        assert!(eta(&flat, &Moments::new(&flat, true)).is_nan());
    }

    #[test]
    fn slopes() {
        let t = [0.0, 2.0, 4.0, 5.0, 7.0, 9.0];
        let m = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(maximum_slope(&t, &m), 1.0);
        // Equal times are skipped; only equal times leaves nothing.
        assert_eq!(maximum_slope(&[0.0, 0.0, 1.0], &[1.0, 5.0, 7.0]), 2.0);
        assert!(maximum_slope(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!(maximum_slope(&[1.0], &[1.0]).is_nan());
    }

    #[test]
    fn straight_line() {
        // curve_fit(lambda x, a, b: a + b*x, x, y, sigma=w**-0.5, absolute_sigma=True)
        let t = [0.5, 1.5, 2.5, 5.0, 7.0, 16.0];
        let m = [-1.0, 3.0, 2.0, 6.0, 10.0, 25.0];
        let w = [2.0, 1.0, 3.0, 10.0, 1.0, 0.4];
        let e: Vec<f64> = w.iter().map(|w: &f64| 1.0 / w.sqrt()).collect();
        let [slope, sigma, chi2] = linear_fit(&t, &m, &e);
        assert!((slope - 1.6023644).abs() < 1e-6);
        assert!((sigma * sigma - 0.00882845).abs() < 1e-6);
        assert!((chi2 - 1.7927152569891913).abs() < 1e-9);
        assert!(linear_fit(&[2.0; 3], &[1.0, 2.0, 3.0], &[1.0; 3])
            .iter()
            .all(|v| v.is_nan()));
    }
}
