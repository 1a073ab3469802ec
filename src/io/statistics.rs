//! What Parquet footers tell without decoding: row-group layout, id ranges from column
//! statistics, null counts, and the decoded size of a row.

use super::column_map::{ColumnMap, Role};
use super::id_key::IdKey;
use super::parquet_source::SourceFile;
use arrow::datatypes::{DataType, Schema};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::basic::{ColumnOrder, SortOrder};
use parquet::file::statistics::Statistics;

/// An inclusive range of object ids, as engine keys ([`IdKey`]: the id itself, except for
/// `UInt64` ids, whose sign bit is flipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// Smallest id.
    pub min: i64,
    /// Largest id.
    pub max: i64,
}

impl IdRange {
    /// The smallest range holding both.
    fn union(self, other: IdRange) -> IdRange {
        IdRange {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

/// One row group of a file, as its footer describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowGroup {
    /// First row of the group, counted from the start of the file.
    pub start: usize,
    /// Rows in the group.
    pub rows: usize,
    /// Smallest and largest id, from the id column's statistics when the file has them.
    pub id_range: Option<IdRange>,
}

impl RowGroup {
    /// Whether the group shares a row with `start..start + rows`.
    pub(crate) fn overlaps(&self, start: usize, rows: usize) -> bool {
        self.start < start + rows && start < self.start + self.rows
    }
}

/// The row groups of a file, with id ranges from the statistics of column `id`, read
/// with the column's logical type (see [`stats_range`]).
pub(crate) fn row_groups(meta: &ArrowReaderMetadata, id: &str) -> Vec<RowGroup> {
    let id_leaf = leaf_index(meta, id);
    let id_type = meta
        .schema()
        .field_with_name(id)
        .map(|f| f.data_type().clone())
        .ok();
    let mut start = 0usize;
    let mut out = Vec::with_capacity(meta.metadata().num_row_groups());
    for rg in meta.metadata().row_groups() {
        let rows = rg.num_rows().max(0) as usize;
        let id_range = match (id_leaf, &id_type) {
            (Some(i), Some(dt)) => stats_range(
                rg.column(i).statistics(),
                dt,
                meta.metadata().file_metadata().column_order(i),
            ),
            _ => None,
        };
        out.push(RowGroup {
            start,
            rows,
            id_range,
        });
        start += rows;
    }
    out
}

/// Whether some non-empty row group of `files` has no id statistics.
pub(crate) fn stats_missing(files: &[SourceFile]) -> bool {
    files.iter().any(|f| {
        f.row_groups
            .iter()
            .any(|rg| rg.rows > 0 && rg.id_range.is_none())
    })
}

/// The id ranges of all non-empty row groups that have statistics.
pub(crate) fn stat_ranges(files: &[SourceFile]) -> Vec<IdRange> {
    files
        .iter()
        .flat_map(|f| f.row_groups.iter())
        .filter(|rg| rg.rows > 0)
        .filter_map(|rg| rg.id_range)
        .collect()
}

/// The id range of rows `start..start + rows` of a file as far as statistics tell: the
/// union over the row groups they touch, `None` when one of those lacks statistics.
pub(crate) fn stats_range_of_rows(
    row_groups: &[RowGroup],
    start: usize,
    rows: usize,
) -> Option<IdRange> {
    let mut range: Option<IdRange> = None;
    for rg in row_groups
        .iter()
        .filter(|rg| rg.rows > 0 && rg.overlaps(start, rows))
    {
        let r = rg.id_range?;
        range = Some(range.map_or(r, |a| a.union(r)));
    }
    range
}

/// True when no two ranges share an id.
pub fn disjoint(ranges: impl Iterator<Item = IdRange>) -> bool {
    let mut v: Vec<IdRange> = ranges.collect();
    v.sort_by_key(|r| (r.min, r.max));
    v.windows(2).all(|w| w[0].max < w[1].min)
}

/// Non-null values of `column` over `files` (holding `rows` rows in all), when every row
/// group has a null count for it.
pub(crate) fn non_null_count(files: &[SourceFile], rows: usize, column: &str) -> Option<usize> {
    let mut nulls = 0u64;
    for f in files {
        let leaf = leaf_index(&f.meta, column)?;
        for rg in f.meta.metadata().row_groups() {
            nulls = nulls.checked_add(rg.column(leaf).statistics()?.null_count_opt()?)?;
        }
    }
    // A footer claiming more nulls than rows is lying: then the count is unknown.
    rows.checked_sub(usize::try_from(nulls).ok()?)
}

/// Estimated decoded bytes per row of `schema` (the canonical schema of `files`):
/// fixed-width types by width, the band column by key plus `avg_band_len`, other
/// variable-width columns by their uncompressed Parquet size.
pub(crate) fn bytes_per_row(
    files: &[SourceFile],
    schema: &Schema,
    columns: &ColumnMap,
    rows: usize,
    avg_band_len: f64,
) -> f64 {
    let mut total = 0.0;
    for (i, f) in schema.fields().iter().enumerate() {
        total += match f.data_type().primitive_width() {
            Some(w) => w as f64,
            None if columns.role_of(f.name()) == Some(Role::Band) => 4.0 + avg_band_len,
            None => {
                let bytes: i64 = files
                    .iter()
                    .flat_map(|file| file.meta.metadata().row_groups().iter())
                    .filter_map(|rg| rg.columns().get(i).map(|c| c.uncompressed_size()))
                    .sum();
                4.0 + bytes as f64 / rows.max(1) as f64
            }
        };
    }
    total
}

/// Index of the top-level Parquet leaf column `name`.
pub(super) fn leaf_index(meta: &ArrowReaderMetadata, name: &str) -> Option<usize> {
    meta.parquet_schema()
        .columns()
        .iter()
        .position(|c| c.path().parts().len() == 1 && c.name() == name)
}

/// An id range (in keys) from the statistics of an id column of Arrow type `id_type`.
///
/// Parquet stores unsigned integers in signed physical columns (`UInt8/16/32` as `INT32`,
/// `UInt64` as `INT64`), so the footer's min/max are bit patterns to reinterpret as
/// unsigned. They are the unsigned min/max only when the writer ordered them as unsigned:
/// the column order must be type-defined with an unsigned sort order, and the statistics
/// must use the current `min_value`/`max_value` fields (the deprecated `min`/`max` fields
/// were ordered as signed by old writers). Otherwise there is no range: the caller then
/// reads the id column once instead of trusting the footer.
fn stats_range(
    stats: Option<&Statistics>,
    id_type: &DataType,
    order: ColumnOrder,
) -> Option<IdRange> {
    let stats = stats?;
    let unsigned = id_type.is_unsigned_integer();
    if unsigned
        && (stats.is_min_max_deprecated()
            || order != ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED))
    {
        return None;
    }
    let (min, max) = match (stats, IdKey::of_type(id_type)) {
        (Statistics::Int64(s), IdKey::FlippedUInt64) => (
            IdKey::from_u64(*s.min_opt()? as u64),
            IdKey::from_u64(*s.max_opt()? as u64),
        ),
        (Statistics::Int64(s), IdKey::Int64) if !unsigned => (*s.min_opt()?, *s.max_opt()?),
        (Statistics::Int32(s), IdKey::Int64) if unsigned => {
            (*s.min_opt()? as u32 as i64, *s.max_opt()? as u32 as i64)
        }
        (Statistics::Int32(s), IdKey::Int64) => (*s.min_opt()? as i64, *s.max_opt()? as i64),
        _ => return None,
    };
    // A footer whose min exceeds its max is not describing this column's order.
    (min <= max).then_some(IdRange { min, max })
}

/// A bound from column statistics, in the decoded value's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum StatValue {
    /// An integer column's bound.
    Int(i64),
    /// A float column's bound (NaN never appears in a bound we return).
    Float(f64),
    /// A string column's bound, as bytes (compared bytewise, like the writer).
    Bytes(Vec<u8>),
}

/// What one row group's statistics say about one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// No value in the group is below this (nulls and NaN aside).
    pub min: StatValue,
    /// No value in the group is above this (nulls and NaN aside).
    pub max: StatValue,
    /// Nulls in the group, when the writer counted them.
    pub null_count: Option<u64>,
}

/// Statistics of `column` in row group `rg` of `file`, when the footer has usable ones:
/// current (not deprecated) min/max fields, a type-defined order matching the column's
/// type, and a min not above the max. `None` means "nothing is known" (never skip).
pub fn column_stats(file: &SourceFile, rg: usize, column: &str) -> Option<ColumnStats> {
    // A path key (`band=g/`) holds one value on every row of the file.
    if let Some((_, value)) = file.path_keys.iter().find(|(k, _)| k == column) {
        let v = value.parse::<i64>().map_or_else(
            |_| StatValue::Bytes(value.as_bytes().to_vec()),
            StatValue::Int,
        );
        return Some(ColumnStats {
            min: v.clone(),
            max: v,
            null_count: Some(0),
        });
    }
    let leaf = leaf_index(&file.meta, column)?;
    let stats = file
        .meta
        .metadata()
        .row_groups()
        .get(rg)?
        .column(leaf)
        .statistics()?;
    usable_stats(file, leaf, column, stats)
}

/// `stats` of leaf `leaf` (top-level column `column`) of `file` as bounds, under the rules
/// of [`column_stats`]; also used for the per-page statistics of the page index.
pub(super) fn usable_stats(
    file: &SourceFile,
    leaf: usize,
    column: &str,
    stats: &Statistics,
) -> Option<ColumnStats> {
    if stats.is_min_max_deprecated() {
        return None;
    }
    let dt = file
        .meta
        .schema()
        .field_with_name(column)
        .ok()?
        .data_type()
        .clone();
    let order = file.meta.metadata().file_metadata().column_order(leaf);
    let unsigned = dt.is_unsigned_integer();
    let expected = if unsigned {
        SortOrder::UNSIGNED
    } else {
        match stats {
            Statistics::ByteArray(_) | Statistics::FixedLenByteArray(_) => SortOrder::UNSIGNED,
            _ => SortOrder::SIGNED,
        }
    };
    if order != ColumnOrder::TYPE_DEFINED_ORDER(expected) {
        return None;
    }
    let (min, max) = match stats {
        Statistics::Int32(s) if unsigned => (
            StatValue::Int(*s.min_opt()? as u32 as i64),
            StatValue::Int(*s.max_opt()? as u32 as i64),
        ),
        Statistics::Int32(s) => (
            StatValue::Int(*s.min_opt()? as i64),
            StatValue::Int(*s.max_opt()? as i64),
        ),
        // UInt64 values above i64::MAX have no Int bound; filters on them are not pruned.
        Statistics::Int64(s) if unsigned => {
            let (lo, hi) = (*s.min_opt()? as u64, *s.max_opt()? as u64);
            (
                StatValue::Int(i64::try_from(lo).ok()?),
                StatValue::Int(i64::try_from(hi).ok()?),
            )
        }
        Statistics::Int64(s) => (StatValue::Int(*s.min_opt()?), StatValue::Int(*s.max_opt()?)),
        Statistics::Float(s) => (
            StatValue::Float(*s.min_opt()? as f64),
            StatValue::Float(*s.max_opt()? as f64),
        ),
        Statistics::Double(s) => (
            StatValue::Float(*s.min_opt()?),
            StatValue::Float(*s.max_opt()?),
        ),
        Statistics::ByteArray(s) => (
            StatValue::Bytes(s.min_bytes_opt()?.to_vec()),
            StatValue::Bytes(s.max_bytes_opt()?.to_vec()),
        ),
        _ => return None,
    };
    let ordered = match (&min, &max) {
        (StatValue::Int(a), StatValue::Int(b)) => a <= b,
        // A NaN bound says nothing (old writers put NaN in min/max).
        (StatValue::Float(a), StatValue::Float(b)) => a <= b,
        (StatValue::Bytes(a), StatValue::Bytes(b)) => a <= b,
        _ => false,
    };
    ordered.then(|| ColumnStats {
        min,
        max,
        null_count: stats.null_count_opt(),
    })
}

/// Row groups a scan leaves out because their statistics prove that no row passes its
/// filter: one flag per row group of each file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowGroupSkip {
    /// `skip[file][row_group]`.
    pub skip: Vec<Vec<bool>>,
}

impl RowGroupSkip {
    /// Row groups skipped, and row groups in all.
    pub fn counts(&self) -> (usize, usize) {
        let skipped = self.skip.iter().flatten().filter(|&&s| s).count();
        (skipped, self.skip.iter().map(Vec::len).sum())
    }

    /// The flags of file `file` (none skipped when unknown).
    pub fn of_file(&self, file: usize) -> &[bool] {
        self.skip.get(file).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_ranges() {
        let r = |a, b| IdRange { min: a, max: b };
        assert!(disjoint([r(0, 1), r(2, 3)].into_iter()));
        assert!(!disjoint([r(0, 2), r(2, 3)].into_iter()));
        assert!(!disjoint([r(5, 9), r(0, 6)].into_iter()));
    }

    #[test]
    fn unsigned_statistics_are_read_as_unsigned() {
        let typed = ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED);
        // A UInt32 row group holding 2^31 - 2 ..= 2^31 + 1: the writer orders as unsigned,
        // so the footer's i32 min is positive and its max negative.
        let (lo, hi) = ((1u32 << 31) - 2, (1u32 << 31) + 1);
        let s = Statistics::int32(Some(lo as i32), Some(hi as i32), None, Some(0), false);
        assert_eq!(
            stats_range(Some(&s), &DataType::UInt32, typed),
            Some(IdRange {
                min: lo as i64,
                max: hi as i64
            })
        );
        // Legacy (signed) order or deprecated fields: not trusted for unsigned ids.
        assert_eq!(
            stats_range(Some(&s), &DataType::UInt32, ColumnOrder::UNDEFINED),
            None
        );
        let old = Statistics::int32(Some(lo as i32), Some(hi as i32), None, Some(0), true);
        assert_eq!(stats_range(Some(&old), &DataType::UInt32, typed), None);
        // UInt64 above i64::MAX: keys keep the order.
        let (lo, hi) = (u64::MAX - 5, u64::MAX);
        let s = Statistics::int64(Some(lo as i64), Some(hi as i64), None, Some(0), false);
        assert_eq!(
            stats_range(Some(&s), &DataType::UInt64, typed),
            Some(IdRange {
                min: IdKey::from_u64(lo),
                max: IdKey::from_u64(hi)
            })
        );
        // Signed ids are read as they are, whatever the column order says.
        let s = Statistics::int32(Some(-3), Some(7), None, Some(0), false);
        assert_eq!(
            stats_range(Some(&s), &DataType::Int32, ColumnOrder::UNDEFINED),
            Some(IdRange { min: -3, max: 7 })
        );
    }

    #[test]
    fn range_of_rows_needs_statistics_of_every_touched_group() {
        let g = |start, rows, r: Option<(i64, i64)>| RowGroup {
            start,
            rows,
            id_range: r.map(|(min, max)| IdRange { min, max }),
        };
        let groups = [
            g(0, 10, Some((0, 4))),
            g(10, 10, Some((5, 9))),
            g(20, 5, None),
        ];
        assert_eq!(
            stats_range_of_rows(&groups, 5, 10),
            Some(IdRange { min: 0, max: 9 })
        );
        assert_eq!(stats_range_of_rows(&groups, 15, 10), None);
    }
}
