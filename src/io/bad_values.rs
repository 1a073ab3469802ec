//! The bad-value policy: what happens to rows whose time, flux or error is null, NaN or
//! infinite, or whose error is not positive, and the counts of the rows it left out.
//!
//! The policy belongs to a source ([`SourceOptions::bad_values`](crate::io::SourceOptions),
//! else the ensemble's, else [`BadValues::Drop`]). Under `Reject` decoding fails at the
//! first bad value, as before. Under `Drop` and `Keep` decoding lets the rows through
//! (nulls stay null, so a plain `compute()` or a filter returns rows as they are), and the
//! policy is applied where a function reads the columns: each per-lightcurve function (and
//! the pooled structure function) leaves out the rows with a bad value in a column *it*
//! reads (`Drop`, counted in [`BadValueCounts`]) or sees them (`Keep`, nulls as NaN).
//! A null id or band is never a bad value in this sense: it is always rejected.

use super::column_map::Role;
use crate::error::{Error, Result};
use arrow::array::{Array, AsArray, BooleanArray, Float64Array, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::Float64Type;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What to do with rows whose time, flux or error is null, NaN or infinite, or whose error
/// is not positive.
///
/// ```
/// use lsstseries::io::BadValues;
/// assert_eq!("reject".parse::<BadValues>().unwrap(), BadValues::Reject);
/// assert_eq!(BadValues::default().to_string(), "drop");
/// assert!("skip".parse::<BadValues>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum BadValues {
    /// Leave the row out of every function that reads the bad column, and count it.
    #[default]
    Drop,
    /// Fail the compute with an error naming the file, column, row and object.
    Reject,
    /// Hand the value to the function as it is (a null as NaN).
    Keep,
}

impl BadValues {
    /// The policy's name, as parsed.
    pub fn name(self) -> &'static str {
        match self {
            BadValues::Drop => "drop",
            BadValues::Reject => "reject",
            BadValues::Keep => "keep",
        }
    }
}

impl fmt::Display for BadValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BadValues {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(BadValues::Drop),
            "reject" => Ok(BadValues::Reject),
            "keep" => Ok(BadValues::Keep),
            _ => Err(Error::InvalidArgument(format!(
                "bad-value policy '{s}': expected drop, reject or keep"
            ))),
        }
    }
}

/// Why a value is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BadReason {
    /// Null.
    Null,
    /// NaN.
    NaN,
    /// Positive or negative infinity.
    Inf,
    /// An error (the err column) that is zero or negative.
    NonPositiveErr,
}

impl BadReason {
    /// Why `v` (null if `null`; an error, so also bad when not positive, if `positive`) is
    /// bad, or `None` when it is fine.
    fn of(v: f64, null: bool, positive: bool) -> Option<BadReason> {
        if null {
            Some(BadReason::Null)
        } else if v.is_nan() {
            Some(BadReason::NaN)
        } else if v.is_infinite() {
            Some(BadReason::Inf)
        } else if positive && v <= 0.0 {
            Some(BadReason::NonPositiveErr)
        } else {
            None
        }
    }
}

impl fmt::Display for BadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadReason::Null => "null",
            BadReason::NaN => "NaN",
            BadReason::Inf => "inf",
            BadReason::NonPositiveErr => "<= 0",
        })
    }
}

/// Rows left out under [`BadValues::Drop`]: how many, and the bad values they held per
/// column and reason. A row with bad values in two columns counts once in
/// [`rows`](BadValueCounts::rows) and once under each column. Counted per function that
/// read the columns (one `batch` reads each row once, whatever the partitioning).
///
/// Displays as `12 rows: psFlux NaN 10, psFluxErr <= 0 2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadValueCounts {
    rows: u64,
    values: BTreeMap<(String, BadReason), u64>,
}

impl BadValueCounts {
    /// Rows left out.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// True when no row was left out.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Bad values found in `column` for `reason` (0 if none).
    pub fn get(&self, column: &str, reason: BadReason) -> u64 {
        self.values
            .get(&(column.to_string(), reason))
            .copied()
            .unwrap_or(0)
    }

    /// Every (column, reason, count), by column name then reason.
    pub fn iter(&self) -> impl Iterator<Item = (&str, BadReason, u64)> {
        self.values.iter().map(|((c, r), n)| (c.as_str(), *r, *n))
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &BadValueCounts) {
        self.rows += other.rows;
        for ((c, r), n) in &other.values {
            *self.values.entry((c.clone(), *r)).or_insert(0) += n;
        }
    }
}

impl fmt::Display for BadValueCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} row{}",
            self.rows,
            if self.rows == 1 { "" } else { "s" }
        )?;
        for (i, (c, r, n)) in self.iter().enumerate() {
            write!(f, "{}{c} {r} {n}", if i == 0 { ": " } else { ", " })?;
        }
        Ok(())
    }
}

/// One column a function reads: its name, whether its values must also be positive (the
/// error role), and its values.
pub(crate) struct Screened<'a> {
    pub name: &'a str,
    pub positive: bool,
    pub array: &'a Float64Array,
}

/// Which rows of `columns` (all of one length) hold no bad value: `None` when all do
/// (the common case, found by a branch-free pass), else a mask, with the counts.
pub(crate) fn screen(columns: &[Screened<'_>]) -> (Option<Vec<bool>>, BadValueCounts) {
    let mut counts = BadValueCounts::default();
    let all_ok = columns.iter().all(|c| {
        let err = c.positive;
        c.array.null_count() == 0
            && c.array.values().chunks(1024).all(|ch| {
                ch.iter()
                    .fold(true, |acc, &x| acc & x.is_finite() & (!err | (x > 0.0)))
            })
    });
    let Some(n) = columns.first().map(|c| c.array.len()).filter(|_| !all_ok) else {
        return (None, counts);
    };
    let mut keep = vec![true; n];
    for c in columns {
        let v = c.array.values();
        // Counted per reason here, and keyed by column name once per column.
        let mut per_reason = [0u64; 4];
        for (i, k) in keep.iter_mut().enumerate() {
            if let Some(reason) = BadReason::of(v[i], c.array.is_null(i), c.positive) {
                *k = false;
                per_reason[reason as usize] += 1;
            }
        }
        let reasons = [
            BadReason::Null,
            BadReason::NaN,
            BadReason::Inf,
            BadReason::NonPositiveErr,
        ];
        for (reason, n) in reasons.into_iter().zip(per_reason) {
            if n > 0 {
                *counts
                    .values
                    .entry((c.name.to_string(), reason))
                    .or_insert(0) += n;
            }
        }
    }
    counts.rows = keep.iter().filter(|&&k| !k).count() as u64;
    (Some(keep), counts)
}

/// The values of `array`, a null read as NaN (the slot behind a null is unspecified).
pub(crate) fn nulls_as_nan(array: &Float64Array) -> Cow<'_, [f64]> {
    if array.null_count() == 0 {
        return Cow::Borrowed(array.values().as_ref());
    }
    Cow::Owned(
        array
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect::<Vec<f64>>(),
    )
}

/// `batch` under `policy` for a consumer that reads the value columns `read` (name and
/// role): under `Drop` without the rows holding a bad value in one of them (with the
/// counts), under `Keep` with their nulls as NaN, under `Reject` as it is (decoding
/// already refused bad values).
pub(crate) fn screen_batch(
    batch: &RecordBatch,
    read: &[(String, Role)],
    policy: BadValues,
) -> Result<(RecordBatch, BadValueCounts)> {
    let mut arrays = Vec::with_capacity(read.len());
    for (name, role) in read {
        let a = batch
            .column_by_name(name)
            .and_then(|a| a.as_primitive_opt::<Float64Type>())
            .ok_or_else(|| {
                Error::InvalidData(format!("column '{name}' ({role}) is not a Float64 column"))
            })?;
        arrays.push((name.as_str(), *role, a));
    }
    match policy {
        BadValues::Reject => Ok((batch.clone(), BadValueCounts::default())),
        BadValues::Drop => {
            let screened: Vec<Screened<'_>> = arrays
                .iter()
                .map(|&(name, role, array)| Screened {
                    name,
                    positive: role == Role::Err,
                    array,
                })
                .collect();
            match screen(&screened) {
                (None, counts) => Ok((batch.clone(), counts)),
                (Some(keep), counts) => {
                    let mask = BooleanArray::from(keep);
                    let kept = filter_record_batch(batch, &mask)
                        .map_err(|e| Error::arrow("leaving out rows with bad values", e))?;
                    Ok((kept, counts))
                }
            }
        }
        BadValues::Keep => {
            let mut columns = batch.columns().to_vec();
            for (name, _, a) in arrays {
                if a.null_count() > 0 {
                    let i = batch
                        .schema()
                        .index_of(name)
                        .map_err(|e| Error::arrow("bad values", e))?;
                    columns[i] = Arc::new(Float64Array::from(nulls_as_nan(a).into_owned()));
                }
            }
            let kept = RecordBatch::try_new(batch.schema(), columns)
                .map_err(|e| Error::arrow("nulls as NaN", e))?;
            Ok((kept, BadValueCounts::default()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_policy() {
        for p in [BadValues::Drop, BadValues::Reject, BadValues::Keep] {
            assert_eq!(p.to_string().parse::<BadValues>().unwrap(), p);
        }
        assert_eq!(" Keep ".parse::<BadValues>().unwrap(), BadValues::Keep);
        let e = "nan".parse::<BadValues>().unwrap_err().to_string();
        assert!(
            e.contains("'nan'") && e.contains("drop, reject or keep"),
            "{e}"
        );
    }

    #[test]
    fn screen_counts_each_reason_and_each_row_once() {
        let flux = Float64Array::from(vec![
            Some(1.0),
            Some(f64::NAN),
            None,
            Some(f64::INFINITY),
            Some(2.0),
        ]);
        let err = Float64Array::from(vec![Some(1.0), Some(0.0), Some(1.0), Some(-0.0), Some(1.0)]);
        let (keep, counts) = screen(&[
            Screened {
                name: "f",
                positive: false,
                array: &flux,
            },
            Screened {
                name: "e",
                positive: true,
                array: &err,
            },
        ]);
        assert_eq!(keep.unwrap(), vec![true, false, false, false, true]);
        assert_eq!(counts.rows(), 3);
        assert_eq!(counts.get("f", BadReason::NaN), 1);
        assert_eq!(counts.get("f", BadReason::Null), 1);
        assert_eq!(counts.get("f", BadReason::Inf), 1);
        assert_eq!(counts.get("e", BadReason::NonPositiveErr), 2);
        assert_eq!(
            counts.to_string(),
            "3 rows: e <= 0 2, f null 1, f NaN 1, f inf 1"
        );
        // A zero flux is fine; only errors must be positive.
        let ok = Float64Array::from(vec![0.0, -1.0]);
        let (keep, counts) = screen(&[Screened {
            name: "f",
            positive: false,
            array: &ok,
        }]);
        assert!(keep.is_none() && counts.is_empty());
        assert!(nulls_as_nan(&flux)[2].is_nan());
    }
}
