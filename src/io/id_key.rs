//! The engine's internal id key, and how a source's id column maps onto it.
//!
//! Everything past decoding (plan type checks, the shuffle hash, the collect sort,
//! lightcurve grouping, partition id ranges) works on one canonical id: an `Int64` key.
//! Each integer id type maps onto it exactly and in order, so "same id" and "id order"
//! mean the same thing on keys as on the user's ids:
//!
//! - `Int8/16/32/64` and `UInt8/16/32` widen to `Int64` unchanged ([`IdKey::Int64`]).
//!   Parquet stores `UInt8/16/32` as physical `INT32` with an unsigned logical type, so
//!   their footer statistics are `i32` bit patterns that must be read back as `u32`
//!   (`statistics.rs` does; a `UInt32` id of 3e9 is not the `i32` -1294967296).
//! - `UInt64` ([`IdKey::FlippedUInt64`]) maps by flipping the sign bit,
//!   `key = (v ^ 1 << 63) as i64`: a bijection from `u64` onto `i64` that keeps order
//!   (0 becomes `i64::MIN`, `u64::MAX` becomes `i64::MAX`), so ids above `i64::MAX`
//!   (HiPSCat/LSDB `_hipscat_index`) are neither lost nor reordered. `Frame::compute`
//!   maps the result's id column back to `UInt64`, so users see their own ids; partition
//!   id ranges ([`IdRange`](super::IdRange)) stay in key space, and `info()` prints
//!   them through [`IdKey::display`].
//!
//! Within a pipeline (a `map` closure, a function reading the id column) ids are keys:
//! for a `UInt64` source they are the flipped values.

use super::schema_check::with_field_type;
use crate::error::{Error, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, UInt64Type};
use std::sync::Arc;

/// How a source's id column maps onto the engine's `Int64` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdKey {
    /// Signed ids and `UInt8/16/32` ids: widened to `Int64`, values unchanged.
    #[default]
    Int64,
    /// `UInt64` ids: the sign bit flipped, so order is kept over the whole `u64` range.
    FlippedUInt64,
}

const SIGN: u64 = 1 << 63;

impl IdKey {
    /// The mapping for an id column of Arrow type `data_type`.
    pub fn of_type(data_type: &DataType) -> IdKey {
        match data_type {
            DataType::UInt64 => IdKey::FlippedUInt64,
            _ => IdKey::Int64,
        }
    }

    /// The key of a `UInt64` id.
    pub fn from_u64(id: u64) -> i64 {
        (id ^ SIGN) as i64
    }

    /// The `UInt64` id of a key made by [`IdKey::from_u64`].
    pub fn to_u64(key: i64) -> u64 {
        (key as u64) ^ SIGN
    }

    /// The user's id for `key`, as text.
    pub fn display(self, key: i64) -> String {
        match self {
            IdKey::Int64 => key.to_string(),
            IdKey::FlippedUInt64 => IdKey::to_u64(key).to_string(),
        }
    }

    /// The Arrow type results carry their id column in: `UInt64` for a `UInt64` source,
    /// else `Int64`.
    pub fn result_type(self) -> DataType {
        match self {
            IdKey::Int64 => DataType::Int64,
            IdKey::FlippedUInt64 => DataType::UInt64,
        }
    }

    /// Maps the result's id column (keys, `Int64`) back to the user's ids. A batch
    /// without an `Int64` column named `id` is returned as is.
    pub fn restore(self, batch: RecordBatch, id: &str) -> Result<RecordBatch> {
        if self == IdKey::Int64 {
            return Ok(batch);
        }
        let schema = batch.schema();
        let Ok(i) = schema.index_of(id) else {
            return Ok(batch);
        };
        let Some(keys) = batch.column(i).as_primitive_opt::<Int64Type>() else {
            return Ok(batch);
        };
        let ids: UInt64Array = keys.unary(IdKey::to_u64);
        let mut columns = batch.columns().to_vec();
        columns[i] = Arc::new(ids);
        let schema = Arc::new(with_field_type(&schema, i, DataType::UInt64));
        RecordBatch::try_new(schema, columns).map_err(|e| Error::arrow("restoring UInt64 ids", e))
    }
}

/// The keys of an integer id column, as `Int64` (nulls kept, for the caller to report).
pub(crate) fn keys(col: &ArrayRef) -> Result<ArrayRef> {
    match col.data_type() {
        DataType::Int64 => Ok(col.clone()),
        DataType::UInt64 => {
            let keys: arrow::array::Int64Array =
                col.as_primitive::<UInt64Type>().unary(IdKey::from_u64);
            Ok(Arc::new(keys))
        }
        // Int8/16/32 and UInt8/16/32 fit Int64 exactly.
        dt if dt.is_integer() => {
            cast(col, &DataType::Int64).map_err(|e| Error::arrow("casting ids to Int64", e))
        }
        dt => Err(Error::InvalidData(format!(
            "id column has type {dt}, expected an integer type"
        ))),
    }
}

/// The keys of `col` under a source's mapping `key`, for a table joined to that source
/// (an object file) whose id type may differ: a `UInt64` column joined to a signed source
/// must fit `i64`, a signed column joined to a `UInt64` source must not be negative.
/// Values that cannot be ids of the source are refused, naming the value: a silent
/// mismatch would make every join miss.
pub(crate) fn keys_as(col: &ArrayRef, key: IdKey) -> Result<ArrayRef> {
    match (IdKey::of_type(col.data_type()), key) {
        (IdKey::FlippedUInt64, IdKey::Int64) => {
            let values = col.as_primitive::<UInt64Type>();
            let mut out = Vec::with_capacity(values.len());
            for v in values.iter() {
                out.push(match v {
                    Some(v) => Some(i64::try_from(v).map_err(|_| {
                        Error::InvalidData(format!(
                            "id {v} is above the largest id of the source's signed id column"
                        ))
                    })?),
                    None => None,
                });
            }
            Ok(Arc::new(arrow::array::Int64Array::from(out)))
        }
        (IdKey::Int64, IdKey::FlippedUInt64) => {
            let signed = keys(col)?;
            let mut out = Vec::with_capacity(signed.len());
            for v in signed.as_primitive::<Int64Type>().iter() {
                out.push(match v {
                    Some(v) if v < 0 => {
                        return Err(Error::InvalidData(format!(
                            "id {v} is negative, and the source's ids are UInt64"
                        )))
                    }
                    Some(v) => Some(IdKey::from_u64(v as u64)),
                    None => None,
                });
            }
            Ok(Arc::new(arrow::array::Int64Array::from(out)))
        }
        _ => keys(col),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, UInt32Array};

    #[test]
    fn flipping_keeps_order_and_round_trips() {
        let ids = [
            0,
            1,
            i64::MAX as u64,
            i64::MAX as u64 + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        for w in ids.windows(2) {
            assert!(IdKey::from_u64(w[0]) < IdKey::from_u64(w[1]));
        }
        for id in ids {
            assert_eq!(IdKey::to_u64(IdKey::from_u64(id)), id);
            assert_eq!(
                IdKey::FlippedUInt64.display(IdKey::from_u64(id)),
                id.to_string()
            );
        }
    }

    #[test]
    fn keys_are_exact_for_every_integer_type() {
        let u32s: ArrayRef = Arc::new(UInt32Array::from(vec![0, 1 << 31, u32::MAX]));
        let k = keys(&u32s).unwrap();
        assert_eq!(
            k.as_primitive::<Int64Type>().values(),
            &[0, 1 << 31, u32::MAX as i64]
        );
        let u64s: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, 0]));
        let k = keys(&u64s).unwrap();
        assert_eq!(k.null_count(), 0);
        assert_eq!(
            k.as_primitive::<Int64Type>().values(),
            &[i64::MAX, i64::MIN]
        );
    }

    #[test]
    fn restore_gives_back_uint64_ids() {
        let keys: ArrayRef = Arc::new(Int64Array::from(vec![i64::MIN, i64::MAX]));
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("id", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(schema, vec![keys]).unwrap();
        let out = IdKey::FlippedUInt64.restore(batch, "id").unwrap();
        assert_eq!(out.schema().field(0).data_type(), &DataType::UInt64);
        assert_eq!(
            out.column(0).as_primitive::<UInt64Type>().values(),
            &[0, u64::MAX]
        );
    }
}
