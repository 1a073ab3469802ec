//! Stetson's J variability index, per band, exactly as TAPE computes it.

use super::function::LightcurveFunction;
use crate::io::Role;
use crate::lightcurve::{BandGroups, LightcurveView};
use arrow::datatypes::{DataType, Field};
use std::cell::RefCell;

/// Stetson J per band: output columns `stetson_j_<band>`; NaN for a band with fewer than
/// two observations.
///
/// The weighted mean is refined up to 20 times with Stetson's down-weighting of outliers
/// (alpha = beta = 2), then J = mean(sign(P) sqrt(|P|)) with P = d^2 - 1 and
/// d = sqrt(N/(N-1)) (f - mean) / sigma. Computed in f64 (TAPE used the input's f32; the
/// two agree to about 1e-5).
#[derive(Debug, Clone, Copy, Default)]
pub struct StetsonJ;

thread_local! {
    /// Per-thread scratch: the lightcurve grouped by band, and inverse variances.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    /// Fluxes and (then inverse) errors grouped by band.
    groups: BandGroups,
    inv_var: Vec<f64>,
}

impl LightcurveFunction for StetsonJ {
    fn name(&self) -> &str {
        "stetson_j"
    }
    fn required(&self) -> &[Role] {
        &[Role::Flux, Role::Err, Role::Band]
    }
    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        bands
            .iter()
            .map(|b| Field::new(format!("stetson_j_{b}"), DataType::Float64, true))
            .collect()
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            s.groups.fill(lc);
            // Errors become inverse errors in place, inverse variances beside them: a
            // separate pass so the divisions vectorize.
            let inv_err = s.groups.err_mut();
            s.inv_var.resize(inv_err.len(), 0.0);
            for (ie, iv) in inv_err.iter_mut().zip(s.inv_var.iter_mut()) {
                *ie = 1.0 / *ie;
                *iv = *ie * *ie;
            }
            for k in 0..lc.band_names.len() {
                let r = s.groups.range(k);
                out.push(stetson_j_prepared(
                    s.groups.flux(k),
                    s.groups.err(k),
                    &s.inv_var[r],
                ));
            }
        })
    }
}

/// Stetson J of one band, from fluxes and errors.
///
/// ```
/// let j = lsstseries::analysis::stetson_j(&[1.0, 2.0, 1.5, 3.0], &[0.1, 0.1, 0.2, 0.1]);
/// assert!(j > 0.0);
/// ```
pub fn stetson_j(flux: &[f64], err: &[f64]) -> f64 {
    let inv_err: Vec<f64> = err.iter().map(|e| 1.0 / e).collect();
    let inv_var: Vec<f64> = inv_err.iter().map(|x| x * x).collect();
    stetson_j_prepared(flux, &inv_err, &inv_var)
}

/// Four independent partial sums so the loop pipelines instead of waiting on one
/// accumulator: lane `l` sums elements `4i + l`, the tail goes to lane 0, and the lanes are
/// added in a fixed order. The AVX2 version performs the same IEEE operations lane by lane
/// (no FMA contraction), so results are identical on every CPU.
#[inline(always)]
fn weighted_sums_scalar(
    flux: &[f64],
    inv_err: &[f64],
    inv_var: &[f64],
    mu: f64,
    k: f64,
) -> (f64, f64) {
    let mut sw = [0.0f64; 4];
    let mut swf = [0.0f64; 4];
    let body = flux.len() / 4 * 4;
    for i in (0..body).step_by(4) {
        for l in 0..4 {
            let f = flux[i + l];
            let d = (f - mu) * inv_err[i + l];
            let w = inv_var[i + l] / (1.0 + k * d * d);
            sw[l] += w;
            swf[l] += w * f;
        }
    }
    finish(flux, inv_err, inv_var, mu, k, body, sw, swf)
}

/// Adds the tail (to lane 0) and reduces the lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn finish(
    flux: &[f64],
    inv_err: &[f64],
    inv_var: &[f64],
    mu: f64,
    k: f64,
    body: usize,
    mut sw: [f64; 4],
    mut swf: [f64; 4],
) -> (f64, f64) {
    for i in body..flux.len() {
        let d = (flux[i] - mu) * inv_err[i];
        let w = inv_var[i] / (1.0 + k * d * d);
        sw[0] += w;
        swf[0] += w * flux[i];
    }
    (
        (sw[0] + sw[1]) + (sw[2] + sw[3]),
        (swf[0] + swf[1]) + (swf[2] + swf[3]),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn weighted_sums_avx2(
    flux: &[f64],
    inv_err: &[f64],
    inv_var: &[f64],
    mu: f64,
    k: f64,
) -> (f64, f64) {
    use std::arch::x86_64::*;
    let n = flux.len().min(inv_err.len()).min(inv_var.len());
    let body = n / 4 * 4;
    let (vmu, vk, one) = (_mm256_set1_pd(mu), _mm256_set1_pd(k), _mm256_set1_pd(1.0));
    let (mut sw, mut swf) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut i = 0;
    while i < body {
        // SAFETY: i + 4 <= body <= the length of all three slices.
        let (f, ie, iv) = unsafe {
            (
                _mm256_loadu_pd(flux.as_ptr().add(i)),
                _mm256_loadu_pd(inv_err.as_ptr().add(i)),
                _mm256_loadu_pd(inv_var.as_ptr().add(i)),
            )
        };
        let d = _mm256_mul_pd(_mm256_sub_pd(f, vmu), ie);
        let w = _mm256_div_pd(
            iv,
            _mm256_add_pd(one, _mm256_mul_pd(_mm256_mul_pd(vk, d), d)),
        );
        sw = _mm256_add_pd(sw, w);
        swf = _mm256_add_pd(swf, _mm256_mul_pd(w, f));
        i += 4;
    }
    let (mut a, mut b) = ([0.0f64; 4], [0.0f64; 4]);
    // SAFETY: both arrays hold four f64.
    unsafe {
        _mm256_storeu_pd(a.as_mut_ptr(), sw);
        _mm256_storeu_pd(b.as_mut_ptr(), swf);
    }
    finish(&flux[..n], &inv_err[..n], &inv_var[..n], mu, k, body, a, b)
}

/// Stetson J from prepared inputs, with 4-wide AVX2 division where the CPU has it.
fn stetson_j_prepared(flux: &[f64], inv_err: &[f64], inv_var: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY (both closures): the CPU supports AVX2, checked just above.
            return stetson_j_kernel(
                flux,
                inv_err,
                inv_var,
                |f, e, v, mu, k| unsafe { weighted_sums_avx2(f, e, v, mu, k) },
                |f, e, mu, n| unsafe { j_terms_avx2(f, e, mu, n) },
            );
        }
    }
    stetson_j_kernel(flux, inv_err, inv_var, weighted_sums_scalar, j_terms_scalar)
}

#[inline(always)]
fn stetson_j_kernel(
    flux: &[f64],
    inv_err: &[f64],
    inv_var: &[f64],
    weighted_sums: impl Fn(&[f64], &[f64], &[f64], f64, f64) -> (f64, f64),
    j_terms: impl Fn(&[f64], &[f64], f64, f64) -> f64,
) -> f64 {
    let n_obs = flux.len();
    if n_obs < 2 {
        return f64::NAN;
    }
    let n2 = n_obs as f64 / (n_obs as f64 - 1.0);
    let n = n2.sqrt();
    // Initial mean: inverse-variance weights (chi term zero).
    let (sw, swf) = weighted_sums(flux, inv_err, inv_var, 0.0, 0.0);
    let mut mu = swf / sw;
    // (chi/2)^2 = n^2 d^2 / 4 with d = (f - mu)/sigma
    let k = 0.25 * n2;
    for _ in 0..20 {
        let (sw, swf) = weighted_sums(flux, inv_err, inv_var, mu, k);
        let next = swf / sw;
        let diff = (next - mu).abs();
        mu = next;
        if mu == 0.0 || (diff / mu < 1e-6 && diff < 1e-6) {
            break;
        }
    }
    let acc = j_terms(flux, inv_err, mu, n);
    acc / n_obs as f64
}

/// Sum of sign(P) sqrt(|P|), P = d^2 - 1, d = n (f - mu) / sigma; four lanes like
/// [`weighted_sums_scalar`].
#[inline(always)]
fn j_terms_scalar(flux: &[f64], inv_err: &[f64], mu: f64, n: f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let body = flux.len() / 4 * 4;
    for i in (0..body).step_by(4) {
        for l in 0..4 {
            acc[l] += j_term(flux[i + l], inv_err[i + l], mu, n);
        }
    }
    j_finish(flux, inv_err, mu, n, body, acc)
}

#[inline(always)]
fn j_term(f: f64, inv_err: f64, mu: f64, n: f64) -> f64 {
    let d = n * (f - mu) * inv_err;
    let p = d * d - 1.0;
    p.signum() * p.abs().sqrt()
}

#[inline(always)]
fn j_finish(flux: &[f64], inv_err: &[f64], mu: f64, n: f64, body: usize, mut acc: [f64; 4]) -> f64 {
    for i in body..flux.len() {
        acc[0] += j_term(flux[i], inv_err[i], mu, n);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn j_terms_avx2(flux: &[f64], inv_err: &[f64], mu: f64, n: f64) -> f64 {
    use std::arch::x86_64::*;
    let len = flux.len().min(inv_err.len());
    let body = len / 4 * 4;
    let (vmu, vn, one) = (_mm256_set1_pd(mu), _mm256_set1_pd(n), _mm256_set1_pd(1.0));
    let sign = _mm256_set1_pd(-0.0);
    let mut acc = _mm256_setzero_pd();
    let mut i = 0;
    while i < body {
        // SAFETY: i + 4 <= body <= the length of both slices.
        let (f, ie) = unsafe {
            (
                _mm256_loadu_pd(flux.as_ptr().add(i)),
                _mm256_loadu_pd(inv_err.as_ptr().add(i)),
            )
        };
        let d = _mm256_mul_pd(_mm256_mul_pd(vn, _mm256_sub_pd(f, vmu)), ie);
        let p = _mm256_sub_pd(_mm256_mul_pd(d, d), one);
        // signum(p) = copysign(1, p); |p| clears the sign bit.
        let sgn = _mm256_or_pd(_mm256_and_pd(p, sign), one);
        let root = _mm256_sqrt_pd(_mm256_andnot_pd(sign, p));
        acc = _mm256_add_pd(acc, _mm256_mul_pd(sgn, root));
        i += 4;
    }
    let mut a = [0.0f64; 4];
    // SAFETY: a holds four f64.
    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), acc) };
    j_finish(&flux[..len], &inv_err[..len], mu, n, body, a)
}

/// Registers `stetson_j`.
pub(crate) fn register(registry: &mut super::FunctionRegistry) {
    registry.register(std::sync::Arc::new(StetsonJ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_and_scalar_sums_are_bit_identical() {
        let f: Vec<f64> = (0..67).map(|i| 10.0 + (i as f64 * 0.7).sin()).collect();
        let e: Vec<f64> = (0..67).map(|i| 0.05 + 0.01 * (i % 5) as f64).collect();
        let ie: Vec<f64> = e.iter().map(|x| 1.0 / x).collect();
        let iv: Vec<f64> = ie.iter().map(|x| x * x).collect();
        for len in [0, 1, 3, 4, 5, 66, 67] {
            let s = weighted_sums_scalar(&f[..len], &ie[..len], &iv[..len], 10.1, 0.3);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let v = unsafe { weighted_sums_avx2(&f[..len], &ie[..len], &iv[..len], 10.1, 0.3) };
                assert_eq!(
                    (s.0.to_bits(), s.1.to_bits()),
                    (v.0.to_bits(), v.1.to_bits()),
                    "len {len}"
                );
                let (a, b) = (j_terms_scalar(&f[..len], &ie[..len], 10.02, 1.01), unsafe {
                    j_terms_avx2(&f[..len], &ie[..len], 10.02, 1.01)
                });
                assert_eq!(a.to_bits(), b.to_bits(), "j terms, len {len}");
            }
            let _ = s;
        }
    }

    #[test]
    fn fewer_than_two_points_is_nan() {
        assert!(stetson_j(&[1.0], &[1.0]).is_nan());
        assert!(stetson_j(&[], &[]).is_nan());
    }

    #[test]
    fn constant_source_with_matching_errors_is_near_zero_or_negative() {
        let f = [10.0, 10.1, 9.9, 10.05, 9.95, 10.0];
        let w = [0.1; 6];
        let j = stetson_j(&f, &w);
        assert!(j < 0.5, "{j}");
    }

    #[test]
    fn correlated_variability_is_positive() {
        let f: Vec<f64> = (0..50)
            .map(|i| 10.0 + 2.0 * (i as f64 * 0.3).sin())
            .collect();
        let w = vec![0.1; 50];
        assert!(stetson_j(&f, &w) > 5.0);
    }
}
