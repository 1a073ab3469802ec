//! Row predicates for `filter`: column-versus-literal comparisons joined by `and`.

use crate::error::{Error, Result};
use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, Scalar, StringArray,
};
use arrow::compute::kernels::cmp;
use arrow::compute::{and, cast};
use arrow::datatypes::{DataType, Schema};
use std::fmt;
use std::sync::Arc;

/// A literal value in a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// String.
    Str(String),
}

impl From<i64> for Literal {
    fn from(v: i64) -> Self {
        Literal::Int(v)
    }
}
impl From<f64> for Literal {
    fn from(v: f64) -> Self {
        Literal::Float(v)
    }
}
impl From<&str> for Literal {
    fn from(v: &str) -> Self {
        Literal::Str(v.to_string())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Float(v) => write!(f, "{v}"),
            Literal::Str(v) => write!(f, "'{v}'"),
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        })
    }
}

/// A boolean condition on the rows of a partition.
///
/// ```
/// use lsstseries::plan::col;
/// let p = col("band").eq("g").and(col("flux").gt(0.0));
/// assert_eq!(p.to_string(), "band == 'g' and flux > 0");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `column op literal`
    Compare {
        /// Column name.
        column: String,
        /// Operator.
        op: CmpOp,
        /// Right-hand side.
        value: Literal,
    },
    /// Both must hold.
    And(Box<Predicate>, Box<Predicate>),
}

/// A column reference, the start of a predicate.
#[derive(Debug, Clone)]
pub struct ColumnRef(String);

/// Refers to a column by name.
pub fn col(name: impl Into<String>) -> ColumnRef {
    ColumnRef(name.into())
}

macro_rules! cmp_method {
    ($name:ident, $op:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(self, value: impl Into<Literal>) -> Predicate {
            Predicate::Compare {
                column: self.0,
                op: $op,
                value: value.into(),
            }
        }
    };
}

impl ColumnRef {
    cmp_method!(eq, CmpOp::Eq, "`column == value`");
    cmp_method!(not_eq, CmpOp::NotEq, "`column != value`");
    cmp_method!(lt, CmpOp::Lt, "`column < value`");
    cmp_method!(lt_eq, CmpOp::LtEq, "`column <= value`");
    cmp_method!(gt, CmpOp::Gt, "`column > value`");
    cmp_method!(gt_eq, CmpOp::GtEq, "`column >= value`");
}

impl Predicate {
    /// Both this and `other`.
    pub fn and(self, other: Predicate) -> Predicate {
        Predicate::And(Box::new(self), Box::new(other))
    }

    /// Columns the predicate reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Predicate::Compare { column, .. } => vec![column.clone()],
            Predicate::And(a, b) => {
                let mut v = a.columns();
                v.extend(b.columns());
                v
            }
        }
    }

    /// Checks columns exist and types fit, at plan-building time.
    pub fn check(&self, schema: &Schema) -> Result<()> {
        match self {
            Predicate::And(a, b) => {
                a.check(schema)?;
                b.check(schema)
            }
            Predicate::Compare { column, op, value } => {
                let field = schema.field_with_name(column).map_err(|_| {
                    Error::unknown_column(column.clone(), format!("filter({self})"), schema)
                })?;
                let dt = field.data_type();
                let ok = match value {
                    Literal::Str(_) => is_string(dt),
                    Literal::Int(_) | Literal::Float(_) => dt.is_numeric(),
                };
                if !ok {
                    return Err(Error::ColumnType {
                        column: column.clone(),
                        role: format!("filter operand of {op} {value}"),
                        found: dt.to_string(),
                        expected: match value {
                            Literal::Str(_) => "a string column".into(),
                            _ => "a numeric column".into(),
                        },
                        context: String::new(),
                    });
                }
                Ok(())
            }
        }
    }

    /// Evaluates to a row mask.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        match self {
            Predicate::And(a, b) => and(&a.evaluate(batch)?, &b.evaluate(batch)?)
                .map_err(|e| Error::arrow(format!("filter({self})"), e)),
            Predicate::Compare { column, op, value } => {
                let c = batch.column_by_name(column).ok_or_else(|| {
                    Error::unknown_column(
                        column.clone(),
                        format!("filter({self})"),
                        &batch.schema(),
                    )
                })?;
                let lit: ArrayRef = match value {
                    Literal::Int(v) => Arc::new(Int64Array::from(vec![*v])),
                    Literal::Float(v) => Arc::new(Float64Array::from(vec![*v])),
                    Literal::Str(v) => Arc::new(StringArray::from(vec![v.as_str()])),
                };
                let ctx = |e| Error::arrow(format!("filter({self})"), e);
                // Compare in the wider of the two types: an integer column against a
                // fractional literal is compared as f64.
                let (left, right) =
                    if matches!(value, Literal::Float(_)) && c.data_type().is_integer() {
                        (cast(c, &DataType::Float64).map_err(ctx)?, lit)
                    } else {
                        (c.clone(), cast(&lit, c.data_type()).map_err(ctx)?)
                    };
                let right = Scalar::new(right);
                let left: &dyn Array = left.as_ref();
                match op {
                    CmpOp::Eq => cmp::eq(&left, &right),
                    CmpOp::NotEq => cmp::neq(&left, &right),
                    CmpOp::Lt => cmp::lt(&left, &right),
                    CmpOp::LtEq => cmp::lt_eq(&left, &right),
                    CmpOp::Gt => cmp::gt(&left, &right),
                    CmpOp::GtEq => cmp::gt_eq(&left, &right),
                }
                .map_err(ctx)
            }
        }
    }
}

fn is_string(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Compare { column, op, value } => write!(f, "{column} {op} {value}"),
            Predicate::And(a, b) => write!(f, "{a} and {b}"),
        }
    }
}
