//! Borrowed per-lightcurve views over a partition, zero-copy where the partition allows.
//!
//! A partition arrives as an Arrow `RecordBatch`. [`LightcurveBatch`] groups its rows by
//! object id (and by key columns, for `batch_on`; rows already in that order are borrowed
//! as they are; otherwise they are gathered once) and hands out one [`LightcurveView`] per
//! group. The source's bad-value policy ([`BadValues`]) is applied here, per function: a
//! row is left out of a function's views only for a bad value in a column that function
//! reads.

use crate::error::{Error, Result};
use crate::io::{nulls_as_nan, screen, BadValueCounts, BadValues, ColumnMap, Role, Screened};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use arrow::row::{RowConverter, Rows, SortField};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

/// One object's observations: borrowed slices of equal length, in time order when the
/// function reads time.
///
/// Roles a function did not ask for (see
/// [`LightcurveFunction::required`](crate::analysis::LightcurveFunction::required)) are empty;
/// the columns it reads by name are in [`extra`](LightcurveView::extra).
#[derive(Debug, Clone, Copy, Default)]
pub struct LightcurveView<'a> {
    /// The object id.
    pub id: i64,
    /// Observation times.
    pub time: &'a [f64],
    /// Fluxes.
    pub flux: &'a [f64],
    /// Flux errors.
    pub err: &'a [f64],
    /// Band of each observation, as an index into `band_names`.
    pub band: &'a [u8],
    /// Names of the bands, sorted; the same list for every lightcurve of a source.
    pub band_names: &'a [String],
    /// The columns the function reads by name (see
    /// [`LightcurveFunction::extra_columns`](crate::analysis::LightcurveFunction::extra_columns)),
    /// as Float64, row for row with the slices above.
    pub extra: ExtraColumns<'a>,
}

impl<'a> LightcurveView<'a> {
    /// Number of observations.
    pub fn len(&self) -> usize {
        self.flux
            .len()
            .max(self.time.len())
            .max(self.band.len())
            .max(self.extra.rows())
    }

    /// True when the lightcurve has no observations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of the column `name` the function reads by name, or `None` when it did
    /// not declare it.
    pub fn column(&self, name: &str) -> Option<&'a [f64]> {
        self.extra.by_name(name)
    }
}

/// The columns a function reads by name, for one lightcurve: `Float64` values in the
/// lightcurve's row order. Cheap to copy; holds borrowed whole columns and a row range.
///
/// ```
/// use lsstseries::lightcurve::{ExtraColumns, LightcurveView};
/// use std::borrow::Cow;
/// let names = ["airmass".to_string()];
/// let columns = [Cow::Borrowed(&[1.1, 1.2, 1.3, 1.4][..])];
/// let lc = LightcurveView {
///     id: 7,
///     flux: &[10.0, 20.0],
///     extra: ExtraColumns::new(&names, &columns, 2..4),
///     ..Default::default()
/// };
/// assert_eq!(lc.column("airmass"), Some(&[1.3, 1.4][..]));
/// assert_eq!(lc.extra.get(0), &[1.3, 1.4]);
/// assert_eq!(lc.column("seeing"), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtraColumns<'a> {
    names: &'a [String],
    columns: &'a [Cow<'a, [f64]>],
    start: usize,
    end: usize,
}

impl<'a> ExtraColumns<'a> {
    /// Rows `rows` of `columns`, named `names` (one name per column).
    pub fn new(names: &'a [String], columns: &'a [Cow<'a, [f64]>], rows: Range<usize>) -> Self {
        ExtraColumns {
            names,
            columns,
            start: rows.start,
            end: rows.end.max(rows.start),
        }
    }

    /// The column names, in the order the function declared them.
    pub fn names(&self) -> &'a [String] {
        self.names
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Number of rows (0 without columns).
    pub fn rows(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.end - self.start
        }
    }

    /// Column `i` (in declaration order); empty when there is no such column.
    pub fn get(&self, i: usize) -> &'a [f64] {
        let columns: &'a [Cow<'a, [f64]>] = self.columns;
        columns
            .get(i)
            .and_then(|c| c.get(self.start..self.end))
            .unwrap_or(&[])
    }

    /// The column named `name`, if the function declared it.
    pub fn by_name(&self, name: &str) -> Option<&'a [f64]> {
        let i = self.names.iter().position(|n| n == name)?;
        (i < self.columns.len()).then(|| self.get(i))
    }
}

/// What a function reads of a partition besides the id (see [`LightcurveBatch::reading`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reads<'s> {
    /// Roles read.
    pub roles: &'s [Role],
    /// Other columns read by name (numeric; handed out as Float64).
    pub extra: &'s [String],
    /// Columns whose values split each lightcurve into groups: one view per id and
    /// combination of key values, in key order (nulls last).
    pub on: &'s [String],
    /// The policy for bad values in time, flux, error and the extra columns.
    pub policy: BadValues,
}

/// A partition grouped into lightcurves.
pub struct LightcurveBatch<'a> {
    ids: Cow<'a, [i64]>,
    time: Cow<'a, [f64]>,
    flux: Cow<'a, [f64]>,
    err: Cow<'a, [f64]>,
    band: Vec<u8>,
    band_names: &'a [String],
    extra_names: Vec<String>,
    extra: Vec<Cow<'a, [f64]>>,
    /// Start offset of each lightcurve, plus the end.
    offsets: Vec<usize>,
    /// The input row of each row, when rows were reordered or left out.
    perm: Option<Vec<u32>>,
    dropped: BadValueCounts,
}

impl<'a> LightcurveBatch<'a> {
    /// Groups `batch` by id under the default policy ([`BadValues::Drop`]). Only the
    /// `required` roles are decoded; the id is always used.
    pub fn new(
        batch: &'a RecordBatch,
        columns: &ColumnMap,
        band_names: &'a [String],
        required: &[Role],
    ) -> Result<Self> {
        Self::with_policy(batch, columns, band_names, required, BadValues::Drop)
    }

    /// Groups `batch` by id, applying `policy` to the time, flux and error columns among
    /// `required`: under [`BadValues::Drop`] a row with a bad value in one of them is left
    /// out (and counted, see [`LightcurveBatch::dropped`]); otherwise the values are handed
    /// on as they are, a null as NaN.
    pub fn with_policy(
        batch: &'a RecordBatch,
        columns: &ColumnMap,
        band_names: &'a [String],
        required: &[Role],
        policy: BadValues,
    ) -> Result<Self> {
        let reads = Reads {
            roles: required,
            policy,
            ..Reads::default()
        };
        Self::reading(batch, columns, band_names, reads)
    }

    /// Groups `batch` by id (and by the key columns `reads.on`), reading the roles and
    /// extra columns in `reads` under its policy, as [`LightcurveBatch::with_policy`] does
    /// for the roles. A numeric extra column is cast to Float64 here, once; a column of
    /// another type is an error naming it and its type.
    pub fn reading(
        batch: &'a RecordBatch,
        columns: &ColumnMap,
        band_names: &'a [String],
        reads: Reads<'_>,
    ) -> Result<Self> {
        let Reads {
            roles: required,
            extra,
            on,
            policy,
        } = reads;
        let col = |role: Role| {
            batch.column_by_name(columns.column(role)).ok_or_else(|| {
                Error::unknown_column(
                    columns.column(role).to_string(),
                    format!("lightcurve grouping ({role})"),
                    &batch.schema(),
                )
            })
        };
        let ids = col(Role::Id)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| Error::InvalidData("id column is not Int64".into()))?
            .values();
        let ids: &'a [i64] = ids.as_ref();
        let float = |role: Role| -> Result<Option<&'a Float64Array>> {
            if !required.contains(&role) {
                return Ok(None);
            }
            let a = col(role)?;
            a.as_primitive_opt::<Float64Type>()
                .map(Some)
                .ok_or_else(|| Error::ColumnType {
                    column: columns.column(role).to_string(),
                    role: role.name().into(),
                    found: a.data_type().to_string(),
                    expected: "Float64 (the scan's canonical type)".into(),
                    context: String::new(),
                })
        };
        let arrays = [
            (Role::Time, float(Role::Time)?),
            (Role::Flux, float(Role::Flux)?),
            (Role::Err, float(Role::Err)?),
        ];
        let extras: Vec<Cow<'a, Float64Array>> = extra
            .iter()
            .map(|name| extra_column(batch, name))
            .collect::<Result<_>>()?;
        // Only the columns this function reads decide which rows it leaves out.
        let (keep, dropped) = if policy == BadValues::Drop {
            let mut read: Vec<Screened<'_>> = arrays
                .iter()
                .filter_map(|(role, a)| {
                    a.map(|array| Screened {
                        name: columns.column(*role),
                        positive: *role == Role::Err,
                        array,
                    })
                })
                .collect();
            for (name, array) in extra.iter().zip(&extras) {
                // A role column also read by name is screened (and counted) once.
                if !read.iter().any(|r| r.name == name.as_str()) {
                    read.push(Screened {
                        name,
                        positive: false,
                        array,
                    });
                }
            }
            screen(&read)
        } else {
            (None, BadValueCounts::default())
        };
        // Dropped rows are never read, so their null slots need no NaN; kept nulls do.
        let [time, flux, err] = arrays.map(|(_, a)| match a {
            None => Cow::Borrowed(&[][..]),
            Some(a) if keep.is_some() => Cow::Borrowed(a.values().as_ref()),
            Some(a) => nulls_as_nan(a),
        });
        let extra_values: Vec<Cow<'a, [f64]>> = extras
            .into_iter()
            .map(|a| match a {
                Cow::Borrowed(a) if keep.is_some() => Cow::Borrowed(a.values().as_ref()),
                Cow::Borrowed(a) => nulls_as_nan(a),
                Cow::Owned(a) if keep.is_some() => Cow::Owned(a.values().to_vec()),
                Cow::Owned(a) => Cow::Owned(nulls_as_nan(&a).into_owned()),
            })
            .collect();
        let keys = key_rows(batch, on)?;
        let key_cmp = |a: usize, b: usize| match &keys {
            None => Ordering::Equal,
            Some(k) => k.row(a).cmp(&k.row(b)),
        };
        // Functions that read time get each lightcurve in time order (ties keep row
        // order); the others get rows grouped by id (and keys) in their stored order.
        let times: Option<&[f64]> = required.contains(&Role::Time).then_some(&time[..]);
        let rows: Vec<u32> = match &keep {
            None => Vec::new(),
            Some(k) => (0..ids.len() as u32).filter(|&i| k[i as usize]).collect(),
        };
        let in_order = |a: usize, b: usize| match ids[a].cmp(&ids[b]).then_with(|| key_cmp(a, b)) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => times.is_none_or(|t| t[a] <= t[b]),
        };
        let sorted = match &keep {
            None => (1..ids.len()).all(|i| in_order(i - 1, i)),
            Some(_) => rows
                .windows(2)
                .all(|w| in_order(w[0] as usize, w[1] as usize)),
        };
        let perm: Option<Vec<u32>> = if sorted && keep.is_none() {
            None
        } else {
            let mut p = if keep.is_some() {
                rows
            } else {
                (0..ids.len() as u32).collect()
            };
            if !sorted {
                p.sort_by(|&a, &b| {
                    let (a, b) = (a as usize, b as usize);
                    let by_group = ids[a].cmp(&ids[b]).then_with(|| key_cmp(a, b));
                    match times {
                        None => by_group,
                        Some(t) => by_group.then(t[a].total_cmp(&t[b])),
                    }
                })
            }
            Some(p)
        };
        let gather = |v: Cow<'a, [f64]>| -> Cow<'a, [f64]> {
            match &perm {
                Some(p) if !v.is_empty() => Cow::Owned(p.iter().map(|&i| v[i as usize]).collect()),
                _ => v,
            }
        };
        let (time, flux, err) = (gather(time), gather(flux), gather(err));
        let extra_values: Vec<Cow<'a, [f64]>> = extra_values.into_iter().map(gather).collect();
        let band = if required.contains(&Role::Band) {
            let codes = band_codes(col(Role::Band)?, band_names, columns)?;
            match &perm {
                None => codes,
                Some(p) => p.iter().map(|&i| codes[i as usize]).collect(),
            }
        } else {
            Vec::new()
        };
        let ids: Cow<'a, [i64]> = match &perm {
            None => Cow::Borrowed(ids),
            Some(p) => Cow::Owned(p.iter().map(|&i| ids[i as usize]).collect()),
        };
        let source = |i: usize| perm.as_ref().map_or(i, |p| p[i] as usize);
        let mut offsets = Vec::with_capacity(ids.len() / 16 + 2);
        if !ids.is_empty() {
            offsets.push(0);
            for i in 1..ids.len() {
                if ids[i] != ids[i - 1] || key_cmp(source(i - 1), source(i)) != Ordering::Equal {
                    offsets.push(i);
                }
            }
            offsets.push(ids.len());
        }
        Ok(LightcurveBatch {
            ids,
            time,
            flux,
            err,
            band,
            band_names,
            extra_names: extra.to_vec(),
            extra: extra_values,
            offsets,
            perm,
            dropped,
        })
    }

    /// Rows left out for bad values (only under [`BadValues::Drop`]).
    pub fn dropped(&self) -> &BadValueCounts {
        &self.dropped
    }

    /// Number of lightcurves (of groups, with key columns).
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when the partition holds no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row of the input batch where the `k`-th lightcurve (or group) starts: where its
    /// key values can be read.
    pub fn source_row(&self, k: usize) -> usize {
        let a = self.offsets[k];
        self.perm.as_ref().map_or(a, |p| p[a] as usize)
    }

    /// The `k`-th lightcurve (in id order; with key columns, the `k`-th group in id and
    /// key order).
    pub fn get(&self, k: usize) -> LightcurveView<'_> {
        let (a, b) = (self.offsets[k], self.offsets[k + 1]);
        fn sub(v: &[f64], a: usize, b: usize) -> &[f64] {
            if v.is_empty() {
                &[]
            } else {
                &v[a..b]
            }
        }
        let time = sub(&self.time, a, b);
        let flux = sub(&self.flux, a, b);
        let err = sub(&self.err, a, b);
        LightcurveView {
            id: self.ids[a],
            time,
            flux,
            err,
            band: if self.band.is_empty() {
                &[]
            } else {
                &self.band[a..b]
            },
            band_names: self.band_names,
            extra: ExtraColumns::new(&self.extra_names, &self.extra, a..b),
        }
    }
}

/// Column `name` of `batch` as Float64: borrowed when stored so, else cast (numeric types
/// only).
fn extra_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<Cow<'a, Float64Array>> {
    let a = batch.column_by_name(name).ok_or_else(|| {
        Error::unknown_column(name, "a function's columns read by name", &batch.schema())
    })?;
    if let Some(f) = a.as_primitive_opt::<Float64Type>() {
        return Ok(Cow::Borrowed(f));
    }
    check_numeric(name, a.data_type(), String::new())?;
    let cast = arrow::compute::cast(a, &DataType::Float64)
        .map_err(|e| Error::arrow(format!("casting column '{name}' to Float64"), e))?;
    Ok(Cow::Owned(cast.as_primitive::<Float64Type>().clone()))
}

/// Refuses a column read by name whose type cannot be read as Float64; `context` (e.g. " in
/// input of f") ends the message.
pub(crate) fn check_numeric(name: &str, data_type: &DataType, context: String) -> Result<()> {
    if data_type.is_numeric() {
        return Ok(());
    }
    Err(Error::ColumnType {
        column: name.to_string(),
        role: "read by name".into(),
        found: data_type.to_string(),
        expected: "a numeric type (read as Float64)".into(),
        context,
    })
}

/// The key columns `on` of `batch` as comparable rows (value order, nulls last), or `None`
/// without keys.
fn key_rows(batch: &RecordBatch, on: &[String]) -> Result<Option<Rows>> {
    if on.is_empty() {
        return Ok(None);
    }
    let columns: Vec<ArrayRef> = on
        .iter()
        .map(|name| {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                Error::unknown_column(name.clone(), "grouping keys (on)", &batch.schema())
            })
        })
        .collect::<Result<_>>()?;
    let options = arrow::compute::SortOptions {
        descending: false,
        nulls_first: false,
    };
    let fields = columns
        .iter()
        .map(|c| SortField::new_with_options(c.data_type().clone(), options))
        .collect();
    let converter = RowConverter::new(fields).map_err(|e| Error::arrow("grouping keys (on)", e))?;
    let rows = converter
        .convert_columns(&columns)
        .map_err(|e| Error::arrow("grouping keys (on)", e))?;
    Ok(Some(rows))
}

fn unknown_band(value: &str, band_names: &[String], columns: &ColumnMap) -> Error {
    Error::InvalidData(format!(
        "band '{value}' in column '{}' is not among the source's bands {band_names:?}",
        columns.band
    ))
}

/// Maps each row's band string to its index in `band_names`.
fn band_codes(
    col: &arrow::array::ArrayRef,
    band_names: &[String],
    columns: &ColumnMap,
) -> Result<Vec<u8>> {
    if band_names.len() > u8::MAX as usize {
        return Err(Error::InvalidData(format!(
            "{} bands in column '{}'; at most 255 are supported",
            band_names.len(),
            columns.band
        )));
    }
    // Dictionary-encoded (the scan's canonical form): look up each distinct string once.
    if let Some(dict) = col.as_dictionary_opt::<Int32Type>() {
        let values = dict.values().as_string_opt::<i32>().ok_or_else(|| {
            Error::InvalidData(format!(
                "band column '{}' does not hold strings",
                columns.band
            ))
        })?;
        let mut map = Vec::with_capacity(values.len());
        for v in values.iter() {
            let v = v.unwrap_or("");
            map.push(band_names.iter().position(|b| b == v).map(|k| k as u8));
        }
        let mut out = Vec::with_capacity(dict.len());
        for &k in dict.keys().values().iter() {
            match map.get(k as usize).copied().flatten() {
                Some(code) => out.push(code),
                None => return Err(unknown_band(values.value(k as usize), band_names, columns)),
            }
        }
        return Ok(out);
    }
    let s = col.as_string_opt::<i32>().ok_or_else(|| {
        Error::InvalidData(format!(
            "band column '{}' is not a string column",
            columns.band
        ))
    })?;
    // Few bands: a linear scan of byte strings beats hashing, and runs repeat, so cache the
    // last match.
    let names: SmallVec<[&[u8]; 8]> = band_names.iter().map(|b| b.as_bytes()).collect();
    let mut out = Vec::with_capacity(s.len());
    let mut last: (&[u8], u8) = (&[], u8::MAX);
    let offsets = s.value_offsets();
    let data = s.value_data();
    for i in 0..s.len() {
        let v = &data[offsets[i] as usize..offsets[i + 1] as usize];
        if v == last.0 && last.1 != u8::MAX {
            out.push(last.1);
            continue;
        }
        match names.iter().position(|n| *n == v) {
            Some(k) => {
                last = (v, k as u8);
                out.push(k as u8);
            }
            None => {
                return Err(unknown_band(
                    &String::from_utf8_lossy(v),
                    band_names,
                    columns,
                ))
            }
        }
    }
    Ok(out)
}

/// A lightcurve's observations regrouped by band: each band's rows contiguous, in their
/// original (time) order, the columns read by name too ([`BandGroups::extra`]). One
/// counting-sort pass; reuse one value across lightcurves to keep its buffers. Roles the
/// lightcurve does not carry (empty slices) stay empty.
///
/// ```
/// use lsstseries::lightcurve::{BandGroups, LightcurveView};
/// let names = ["g".to_string(), "r".to_string()];
/// let lc = LightcurveView { id: 1, time: &[1.0, 2.0, 3.0], flux: &[10.0, 20.0, 30.0],
///     band: &[1, 0, 1], band_names: &names, ..Default::default() };
/// let mut groups = BandGroups::default();
/// groups.fill(&lc);
/// assert_eq!(groups.flux(1), &[10.0, 30.0]);
/// assert_eq!(groups.time(0), &[2.0]);
/// assert!(groups.err(1).is_empty());
/// ```
#[derive(Debug, Default)]
pub struct BandGroups {
    time: Vec<f64>,
    flux: Vec<f64>,
    err: Vec<f64>,
    /// The columns read by name, each grouped like the others (always owned).
    extra: Vec<Cow<'static, [f64]>>,
    /// Start of each band's rows, plus the end.
    starts: Vec<usize>,
    next: Vec<usize>,
}

impl BandGroups {
    /// Regroups `lc`; rows whose band index is out of range are skipped.
    pub fn fill(&mut self, lc: &LightcurveView<'_>) {
        let nb = lc.band_names.len();
        let n = lc.band.len();
        self.starts.clear();
        self.starts.resize(nb + 1, 0);
        for &b in lc.band {
            if (b as usize) < nb {
                self.starts[b as usize + 1] += 1;
            }
        }
        for k in 0..nb {
            self.starts[k + 1] += self.starts[k];
        }
        self.next.clear();
        self.next.extend_from_slice(&self.starts[..nb]);
        let len = self.starts[nb];
        let (has_t, has_f, has_e) = (lc.time.len() >= n, lc.flux.len() >= n, lc.err.len() >= n);
        self.time.resize(if has_t { len } else { 0 }, 0.0);
        self.flux.resize(if has_f { len } else { 0 }, 0.0);
        self.err.resize(if has_e { len } else { 0 }, 0.0);
        let width = lc.extra.width();
        self.extra.truncate(width);
        self.extra.resize_with(width, || Cow::Owned(Vec::new()));
        for (c, column) in self.extra.iter_mut().enumerate() {
            let rows = if lc.extra.get(c).len() >= n { len } else { 0 };
            column.to_mut().resize(rows, 0.0);
        }
        for (i, &b) in lc.band.iter().enumerate() {
            let Some(slot) = self.next.get_mut(b as usize) else {
                continue;
            };
            let at = *slot;
            *slot += 1;
            if has_t {
                self.time[at] = lc.time[i];
            }
            if has_f {
                self.flux[at] = lc.flux[i];
            }
            if has_e {
                self.err[at] = lc.err[i];
            }
            for (c, column) in self.extra.iter_mut().enumerate() {
                if let (Some(v), Some(slot)) = (lc.extra.get(c).get(i), column.to_mut().get_mut(at))
                {
                    *slot = *v;
                }
            }
        }
    }

    /// The columns read by name (named `names`, those of the lightcurve given to
    /// [`BandGroups::fill`]) for the rows of band `k`.
    pub fn extra<'s>(&'s self, names: &'s [String], k: usize) -> ExtraColumns<'s> {
        ExtraColumns::new(names, &self.extra, self.range(k))
    }

    /// Rows of band `k` (an index range into the grouped columns).
    pub fn range(&self, k: usize) -> std::ops::Range<usize> {
        self.starts[k]..self.starts[k + 1]
    }

    /// Times of band `k` (empty if the lightcurve carries no times).
    pub fn time(&self, k: usize) -> &[f64] {
        part(&self.time, self.range(k))
    }

    /// Fluxes of band `k`.
    pub fn flux(&self, k: usize) -> &[f64] {
        part(&self.flux, self.range(k))
    }

    /// Errors of band `k` (empty if the lightcurve carries no errors).
    pub fn err(&self, k: usize) -> &[f64] {
        part(&self.err, self.range(k))
    }

    /// All grouped errors, mutable (e.g. to turn them into inverse errors in place).
    pub fn err_mut(&mut self) -> &mut [f64] {
        &mut self.err
    }
}

fn part(v: &[f64], r: std::ops::Range<usize>) -> &[f64] {
    if v.is_empty() {
        &[]
    } else {
        &v[r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, Int64Array, StringArray};
    use std::sync::Arc;

    /// Unsorted rows, a null key, an Int32 column read by name and a NaN in another: groups
    /// come out by id then key (null last), each in time order, the NaN row left out and
    /// counted under its column's name.
    #[test]
    fn groups_by_id_and_keys_and_reads_columns_by_name() {
        let batch = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![2, 1, 2, 1, 2, 1])) as ArrayRef,
            ),
            (
                "mjd",
                Arc::new(Float64Array::from(vec![3.0, 2.0, 1.0, 1.0, 2.0, 3.0])),
            ),
            (
                "night",
                Arc::new(Int32Array::from(vec![
                    Some(5),
                    None,
                    Some(5),
                    Some(4),
                    Some(4),
                    Some(4),
                ])),
            ),
            (
                "seeing",
                Arc::new(Float64Array::from(vec![0.5, 0.6, 0.7, f64::NAN, 0.9, 1.0])),
            ),
            (
                "field",
                Arc::new(Int32Array::from(vec![10, 11, 12, 13, 14, 15])),
            ),
            ("band", Arc::new(StringArray::from(vec!["g"; 6]))),
        ])
        .unwrap();
        let columns = ColumnMap::generated();
        let extra = ["field".to_string(), "seeing".to_string()];
        let on = ["night".to_string()];
        let reads = Reads {
            roles: &[Role::Time],
            extra: &extra,
            on: &on,
            policy: BadValues::Drop,
        };
        let lcs = LightcurveBatch::reading(&batch, &columns, &[], reads).unwrap();
        type Group = (i64, Vec<f64>, Vec<f64>, Vec<f64>, usize);
        let groups: Vec<Group> = (0..lcs.len())
            .map(|k| {
                let lc = lcs.get(k);
                let field = lc.column("field").unwrap().to_vec();
                (
                    lc.id,
                    lc.time.to_vec(),
                    field,
                    lc.extra.get(1).to_vec(),
                    lcs.source_row(k),
                )
            })
            .collect();
        let want: Vec<Group> = vec![
            (1, vec![3.0], vec![15.0], vec![1.0], 5),
            (1, vec![2.0], vec![11.0], vec![0.6], 1),
            (2, vec![2.0], vec![14.0], vec![0.9], 4),
            (2, vec![1.0, 3.0], vec![12.0, 10.0], vec![0.7, 0.5], 2),
        ];
        assert_eq!(groups, want);
        assert_eq!(lcs.dropped().rows(), 1);
        assert_eq!(lcs.dropped().get("seeing", crate::io::BadReason::NaN), 1);
    }
}
