//! The schema a source must have and the schema it decodes to: the mapped columns are
//! present with usable types, every file agrees with the first, and role columns decode to
//! canonical types (id Int64, time/flux/err Float64, band [`band_type`]).

use super::column_map::{ColumnMap, Role};
use crate::error::{Error, Result};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use std::path::Path;
use std::sync::Arc;

/// The canonical type of the band column: dictionary-encoded strings, as Parquet stores
/// them, so band lookups touch a handful of strings per partition instead of one per row.
pub fn band_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// Checks that every role's column is in `schema` with a type that can be cast to the
/// role's canonical type.
pub(crate) fn check_roles(path: &Path, schema: &Schema, columns: &ColumnMap) -> Result<()> {
    let present: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let missing: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| schema.field_with_name(columns.column(*r)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            missing: missing
                .iter()
                .map(|r| columns.column(*r).to_string())
                .collect(),
            roles: missing
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
            present,
        });
    }
    for role in Role::ALL {
        let name = columns.column(role);
        let dt = schema
            .field_with_name(name)
            .map(|f| f.data_type().clone())
            .ok();
        let Some(dt) = dt else { continue };
        let ok = match role {
            Role::Id => dt.is_integer(),
            Role::Time | Role::Flux | Role::Err => dt.is_floating() || dt.is_integer(),
            Role::Band if columns.band_codes.is_some() => super::band_codes::is_code_type(&dt),
            Role::Band => {
                matches!(
                    &dt,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) || matches!(&dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8))
            }
        };
        if !ok {
            return Err(Error::ColumnType {
                column: name.to_string(),
                role: role.name().to_string(),
                found: dt.to_string(),
                expected: match role {
                    Role::Id => "an integer type".into(),
                    Role::Band if columns.band_codes.is_some() => {
                        "an integer type (the band codes given)".into()
                    }
                    Role::Band => "a string type (or integer codes with a band-code map)".into(),
                    _ => "a floating-point or integer type".into(),
                },
                context: format!(" in {}", path.display()),
            });
        }
    }
    Ok(())
}

/// The type a column takes when files store it as `a` and as `b`: the same type, or the
/// wider of two numeric types (integers widen to Int64, any float or a float with an
/// integer to Float64); `None` when they cannot be one column (a string and a number).
fn widened(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    let numeric = |t: &DataType| t.is_integer() || t.is_floating();
    if !(numeric(a) && numeric(b)) {
        return None;
    }
    if a.is_integer() && b.is_integer() {
        // UInt64 does not fit Int64: such files are refused rather than silently wrapped.
        if matches!(a, DataType::UInt64) || matches!(b, DataType::UInt64) {
            return None;
        }
        return Some(DataType::Int64);
    }
    Some(DataType::Float64)
}

/// Merges the schema of another file (`this`, of `path`) into `merged` (from `first_path`
/// and the files before): a column only some files have becomes nullable (missing values
/// read as null); a column stored with different numeric types takes the wider one (see
/// `widened`). Role columns must agree in kind (ids: all unsigned 64-bit or none).
pub(crate) fn merge_schema(
    path: &Path,
    first_path: &Path,
    merged: &Schema,
    this: &Schema,
    columns: &ColumnMap,
) -> Result<Schema> {
    let mut fields: Vec<Field> = merged.fields().iter().map(|f| (**f).clone()).collect();
    for f in this.fields() {
        match fields.iter_mut().find(|m| m.name() == f.name()) {
            Some(m) => {
                let role = columns.role_of(f.name());
                let unsigned_mix = role == Some(Role::Id)
                    && (m.data_type() == &DataType::UInt64) != (f.data_type() == &DataType::UInt64);
                // Role columns decode to their canonical types whatever each file stores
                // (`check_roles` vetted it); only unsigned 64-bit ids cannot share a key.
                let dt = if role.is_some() {
                    (!unsigned_mix).then(|| m.data_type().clone())
                } else {
                    widened(m.data_type(), f.data_type())
                };
                let Some(dt) = dt else {
                    return Err(Error::SchemaMismatch {
                        path: path.to_path_buf(),
                        first: first_path.to_path_buf(),
                        detail: format!(
                            "column '{}' is {} there but {} before; only numeric types widen",
                            f.name(),
                            f.data_type(),
                            m.data_type()
                        ),
                    });
                };
                let nullable = m.is_nullable() || f.is_nullable();
                *m = m.clone().with_data_type(dt).with_nullable(nullable);
            }
            None => fields.push((**f).clone().with_nullable(true)),
        }
    }
    // Columns this file lacks are null in its rows.
    for m in fields.iter_mut() {
        if this.field_with_name(m.name()).is_err() {
            *m = m.clone().with_nullable(true);
        }
    }
    Ok(Schema::new_with_metadata(fields, merged.metadata().clone()))
}

/// The schema partitions have after decoding: role columns in their canonical types, id
/// and band non-nullable (nulls are rejected when decoding), time, flux and error nullable
/// as stored (the bad-value policy may let their nulls through), other columns as stored.
pub(crate) fn canonical_schema(file: &Schema, columns: &ColumnMap) -> SchemaRef {
    let fields: Vec<Field> = file
        .fields()
        .iter()
        .map(|f| {
            let dt = match columns.role_of(f.name()) {
                Some(Role::Id) => DataType::Int64,
                Some(Role::Time | Role::Flux | Role::Err) => DataType::Float64,
                Some(Role::Band) => band_type(),
                None => f.data_type().clone(),
            };
            let keeps_nulls = !matches!(columns.role_of(f.name()), Some(Role::Id | Role::Band));
            Field::new(f.name(), dt, keeps_nulls && f.is_nullable())
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `schema` with field `i` retyped to `data_type` (name, nullability and metadata kept).
pub(crate) fn with_field_type(schema: &Schema, i: usize, data_type: DataType) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let f = (**f).clone();
            if k == i {
                f.with_data_type(data_type.clone())
            } else {
                f
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Reader metadata that decodes a Utf8 band column as a dictionary (no per-row strings).
pub(crate) fn dictionary_band_reader(meta: ArrowReaderMetadata, band: &str) -> ArrowReaderMetadata {
    let schema = meta.schema();
    let Ok(i) = schema.index_of(band) else {
        return meta;
    };
    if schema.field(i).data_type() != &DataType::Utf8 {
        return meta;
    }
    let hinted = Arc::new(with_field_type(schema, i, band_type()));
    ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .unwrap_or(meta)
}
