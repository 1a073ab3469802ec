//! Row expressions: columns, literals, arithmetic, comparisons, `and`/`or`/`not`, `is_in`,
//! `is_null`, `is_nan`. Typed at plan-building time against the input schema (unknown
//! columns and type mismatches fail at the call), evaluated with Arrow kernels, printed in
//! the query language that [`parse_query`](super::parse_query) reads back.
//!
//! Expressions are data, not closures, so a plan that holds them can be shipped by name.

use crate::error::{Error, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Datum, Float64Array, Int64Array, RecordBatch, Scalar,
    StringArray,
};
use arrow::compute::kernels::{boolean, cmp, numeric};
use arrow::compute::{cast, is_null};
use arrow::datatypes::{DataType, Float64Type, Schema};
use std::fmt;
use std::sync::Arc;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
    /// String.
    Str(String),
    /// Boolean.
    Bool(bool),
}

impl From<i64> for Literal {
    fn from(v: i64) -> Self {
        Literal::Int(v)
    }
}
impl From<i32> for Literal {
    fn from(v: i32) -> Self {
        Literal::Int(v.into())
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
impl From<String> for Literal {
    fn from(v: String) -> Self {
        Literal::Str(v)
    }
}
impl From<bool> for Literal {
    fn from(v: bool) -> Self {
        Literal::Bool(v)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(v) => write!(f, "{v}"),
            // `{:?}` keeps a fractional part or exponent ("2.0", "1e20", "-0.0", "NaN",
            // "inf"), so the text reads back as the same float.
            Literal::Float(v) => write!(f, "{v:?}"),
            Literal::Str(v) => write!(f, "'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Bool(v) => write!(f, "{v}"),
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

/// Arithmetic operators (division is true division, as in pandas: always Float64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl fmt::Display for ArithOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        })
    }
}

/// A row expression.
///
/// ```
/// use lsstseries::plan::{col, lit};
/// let e = col("nobs_total").gt_eq(50).and(col("band").is_in(["g", "r"]));
/// assert_eq!(e.to_string(), "nobs_total >= 50 and band in ('g', 'r')");
/// let mag = lit(-2.5) * col("flux") + 31.4;
/// assert_eq!(mag.to_string(), "-2.5 * flux + 31.4");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column by name.
    Column(String),
    /// A constant.
    Literal(Literal),
    /// `left op right` (numbers).
    Arith(Box<Expr>, ArithOp, Box<Expr>),
    /// `-expr`.
    Neg(Box<Expr>),
    /// `left op right`.
    Compare(Box<Expr>, CmpOp, Box<Expr>),
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// Does not hold.
    Not(Box<Expr>),
    /// `expr in (values)`.
    IsIn(Box<Expr>, Vec<Literal>),
    /// `expr is null`.
    IsNull(Box<Expr>),
    /// `expr is nan` (false for integers and nulls).
    IsNan(Box<Expr>),
    /// A function of the language: `log10(flux)`, `count_valid(a, b)`, ...
    Call(Func, Vec<Expr>),
}

/// Functions expressions can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// How many arguments are neither null nor NaN (Int).
    CountValid,
    /// The first argument that is neither null nor NaN (pandas' `combine_first`).
    Coalesce,
    /// Base-10 logarithm (Float).
    Log10,
    /// Natural logarithm (Float).
    Ln,
    /// e to the power (Float).
    Exp,
    /// Square root (Float).
    Sqrt,
    /// Absolute value (keeps the type).
    Abs,
    /// `uniform_hash(x, seed)`: a float in [0, 1) fixed by the integer `x` and the seed
    /// (SplitMix64), the same on every machine: `uniform_hash(id, 7) < 0.1` keeps a
    /// reproducible tenth of the objects, whole.
    UniformHash,
}

impl Func {
    /// All functions, for messages.
    pub const ALL: [Func; 8] = [
        Func::CountValid,
        Func::Coalesce,
        Func::Log10,
        Func::Ln,
        Func::Exp,
        Func::Sqrt,
        Func::Abs,
        Func::UniformHash,
    ];

    /// The name in the query language.
    pub fn name(self) -> &'static str {
        match self {
            Func::CountValid => "count_valid",
            Func::Coalesce => "coalesce",
            Func::Log10 => "log10",
            Func::Ln => "ln",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::UniformHash => "uniform_hash",
        }
    }

    /// The function called `name` (any case).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    fn unary_float(self) -> Option<fn(f64) -> f64> {
        match self {
            Func::Log10 => Some(f64::log10),
            Func::Ln => Some(f64::ln),
            Func::Exp => Some(f64::exp),
            Func::Sqrt => Some(f64::sqrt),
            _ => None,
        }
    }
}

/// A boolean expression used to keep rows (kept for the name the API has used).
pub type Predicate = Expr;

/// The value kinds expressions compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprType {
    /// Integers (any width, signed or not): computed as Int64.
    Int,
    /// Floating point: computed as Float64.
    Float,
    /// Strings (plain or dictionary-encoded).
    Str,
    /// Booleans.
    Bool,
}

impl ExprType {
    fn numeric(self) -> bool {
        matches!(self, ExprType::Int | ExprType::Float)
    }

    fn name(self) -> &'static str {
        match self {
            ExprType::Int => "an integer",
            ExprType::Float => "a float",
            ExprType::Str => "a string",
            ExprType::Bool => "a boolean",
        }
    }

    fn of_literal(l: &Literal) -> ExprType {
        match l {
            Literal::Int(_) => ExprType::Int,
            Literal::Float(_) => ExprType::Float,
            Literal::Str(_) => ExprType::Str,
            Literal::Bool(_) => ExprType::Bool,
        }
    }

    /// The kind of an Arrow type, if expressions can use it.
    pub fn of_arrow(dt: &DataType) -> Option<ExprType> {
        match dt {
            d if d.is_integer() => Some(ExprType::Int),
            d if d.is_floating() => Some(ExprType::Float),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ExprType::Str),
            DataType::Boolean => Some(ExprType::Bool),
            DataType::Dictionary(_, v) => ExprType::of_arrow(v),
            _ => None,
        }
    }
}

/// Refers to a column by name.
pub fn col(name: impl Into<String>) -> Expr {
    Expr::Column(name.into())
}

/// A literal value.
pub fn lit(value: impl Into<Literal>) -> Expr {
    Expr::Literal(value.into())
}

impl<T: Into<Literal>> From<T> for Expr {
    fn from(v: T) -> Self {
        Expr::Literal(v.into())
    }
}

macro_rules! cmp_method {
    ($name:ident, $op:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(self, other: impl Into<Expr>) -> Expr {
            Expr::Compare(Box::new(self), $op, Box::new(other.into()))
        }
    };
}

macro_rules! arith_impl {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<T: Into<Expr>> std::ops::$trait<T> for Expr {
            type Output = Expr;
            fn $method(self, rhs: T) -> Expr {
                Expr::Arith(Box::new(self), $op, Box::new(rhs.into()))
            }
        }
    };
}
arith_impl!(Add, add, ArithOp::Add);
arith_impl!(Sub, sub, ArithOp::Sub);
arith_impl!(Mul, mul, ArithOp::Mul);
arith_impl!(Div, div, ArithOp::Div);

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Neg(Box::new(self))
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

/// An evaluated operand: a column of values, or one value for every row.
enum Value {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Value {
    fn datum(&self) -> Box<dyn Datum + '_> {
        match self {
            Value::Array(a) => Box::new(a),
            Value::Scalar(a) => Box::new(Scalar::new(a)),
        }
    }

    fn map(self, f: impl FnOnce(&ArrayRef) -> Result<ArrayRef>) -> Result<Value> {
        Ok(match self {
            Value::Array(a) => Value::Array(f(&a)?),
            Value::Scalar(a) => Value::Scalar(f(&a)?),
        })
    }

    fn into_array(self, rows: usize) -> Result<ArrayRef> {
        match self {
            Value::Array(a) => Ok(a),
            Value::Scalar(a) => {
                let idx = arrow::array::UInt32Array::from(vec![0u32; rows]);
                arrow::compute::take(&a, &idx, None)
                    .map_err(|e| Error::arrow("broadcasting a literal", e))
            }
        }
    }
}

impl Expr {
    cmp_method!(eq, CmpOp::Eq, "`self == other`");
    cmp_method!(not_eq, CmpOp::NotEq, "`self != other`");
    cmp_method!(lt, CmpOp::Lt, "`self < other`");
    cmp_method!(lt_eq, CmpOp::LtEq, "`self <= other`");
    cmp_method!(gt, CmpOp::Gt, "`self > other`");
    cmp_method!(gt_eq, CmpOp::GtEq, "`self >= other`");

    /// Both this and `other`.
    pub fn and(self, other: Expr) -> Expr {
        Expr::And(Box::new(self), Box::new(other))
    }

    /// This or `other`.
    pub fn or(self, other: Expr) -> Expr {
        Expr::Or(Box::new(self), Box::new(other))
    }

    /// The value is one of `values`.
    pub fn is_in<L: Into<Literal>>(self, values: impl IntoIterator<Item = L>) -> Expr {
        Expr::IsIn(Box::new(self), values.into_iter().map(Into::into).collect())
    }

    /// The value is null.
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }

    /// The value is a float NaN.
    pub fn is_nan(self) -> Expr {
        Expr::IsNan(Box::new(self))
    }

    /// How many of `items` are neither null nor NaN, per row.
    pub fn count_valid(items: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Call(Func::CountValid, items.into_iter().collect())
    }

    /// The first of `items` that is neither null nor NaN, per row.
    pub fn coalesce(items: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Call(Func::Coalesce, items.into_iter().collect())
    }

    /// `log10(self)`.
    pub fn log10(self) -> Expr {
        Expr::Call(Func::Log10, vec![self])
    }

    /// `sqrt(self)`.
    pub fn sqrt(self) -> Expr {
        Expr::Call(Func::Sqrt, vec![self])
    }

    /// `abs(self)`.
    pub fn abs(self) -> Expr {
        Expr::Call(Func::Abs, vec![self])
    }

    /// Columns the expression reads, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_columns(&mut |c| {
            if !out.iter().any(|o| o == c) {
                out.push(c.to_string());
            }
        });
        out
    }

    fn visit_columns(&self, f: &mut impl FnMut(&str)) {
        match self {
            Expr::Column(c) => f(c),
            Expr::Literal(_) => {}
            Expr::Arith(a, _, b) | Expr::Compare(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.visit_columns(f);
                b.visit_columns(f);
            }
            Expr::Neg(a) | Expr::Not(a) | Expr::IsIn(a, _) | Expr::IsNull(a) | Expr::IsNan(a) => {
                a.visit_columns(f)
            }
            Expr::Call(_, items) => items.iter().for_each(|e| e.visit_columns(f)),
        }
    }

    /// The kind of value the expression computes on rows of `schema`; unknown columns and
    /// mismatched operands are errors naming the expression.
    pub fn data_type(&self, schema: &Schema) -> Result<ExprType> {
        let mismatch = |what: String| {
            Err(Error::InvalidArgument(format!(
                "expression '{self}': {what}"
            )))
        };
        match self {
            Expr::Column(c) => {
                let field = schema
                    .field_with_name(c)
                    .map_err(|_| Error::unknown_column(c.clone(), format!("'{self}'"), schema))?;
                ExprType::of_arrow(field.data_type()).ok_or_else(|| Error::ColumnType {
                    column: c.clone(),
                    role: "expression operand".into(),
                    found: field.data_type().to_string(),
                    expected: "a number, string or boolean column".into(),
                    context: String::new(),
                })
            }
            Expr::Literal(l) => Ok(ExprType::of_literal(l)),
            Expr::Arith(a, op, b) => {
                let (ta, tb) = (a.data_type(schema)?, b.data_type(schema)?);
                if !ta.numeric() || !tb.numeric() {
                    return mismatch(format!(
                        "'{op}' needs numbers, got {} and {}",
                        ta.name(),
                        tb.name()
                    ));
                }
                Ok(
                    if *op == ArithOp::Div || ta == ExprType::Float || tb == ExprType::Float {
                        ExprType::Float
                    } else {
                        ExprType::Int
                    },
                )
            }
            Expr::Neg(a) => match a.data_type(schema)? {
                t if t.numeric() => Ok(t),
                t => mismatch(format!("'-' needs a number, got {}", t.name())),
            },
            Expr::Compare(a, op, b) => {
                let (ta, tb) = (a.data_type(schema)?, b.data_type(schema)?);
                if ta == tb || (ta.numeric() && tb.numeric()) {
                    Ok(ExprType::Bool)
                } else {
                    mismatch(format!(
                        "cannot compare {} with {} using '{op}'",
                        ta.name(),
                        tb.name()
                    ))
                }
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                for side in [a, b] {
                    let t = side.data_type(schema)?;
                    if t != ExprType::Bool {
                        return mismatch(format!("'{side}' is {}, not a condition", t.name()));
                    }
                }
                Ok(ExprType::Bool)
            }
            Expr::Not(a) => match a.data_type(schema)? {
                ExprType::Bool => Ok(ExprType::Bool),
                t => mismatch(format!("'not' needs a condition, got {}", t.name())),
            },
            Expr::IsIn(a, values) => {
                let t = a.data_type(schema)?;
                for v in values {
                    let tv = ExprType::of_literal(v);
                    if !(tv == t || (tv.numeric() && t.numeric())) {
                        return mismatch(format!("{} is not {}", v, t.name()));
                    }
                }
                Ok(ExprType::Bool)
            }
            Expr::IsNull(a) => a.data_type(schema).map(|_| ExprType::Bool),
            Expr::Call(func, items) => {
                let types = items
                    .iter()
                    .map(|e| e.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                let arity_one = items.len() == 1;
                match func {
                    Func::CountValid if !items.is_empty() => Ok(ExprType::Int),
                    Func::Coalesce if !types.is_empty() => {
                        let first = types[0];
                        let same =
                            types.iter().all(|t| *t == first) || types.iter().all(|t| t.numeric());
                        if !same {
                            return mismatch(format!(
                                "{}() needs arguments of one kind",
                                func.name()
                            ));
                        }
                        Ok(if types.contains(&ExprType::Float) {
                            ExprType::Float
                        } else {
                            first
                        })
                    }
                    Func::Abs if arity_one && types[0].numeric() => Ok(types[0]),
                    Func::UniformHash
                        if types.len() == 2 && types.iter().all(|t| *t == ExprType::Int) =>
                    {
                        Ok(ExprType::Float)
                    }
                    f if f.unary_float().is_some() && arity_one && types[0].numeric() => {
                        Ok(ExprType::Float)
                    }
                    f => mismatch(format!(
                        "{}() takes {}",
                        f.name(),
                        match f {
                            Func::CountValid | Func::Coalesce => "one or more arguments",
                            Func::UniformHash => "two integers (value, seed)",
                            _ => "one number",
                        }
                    )),
                }
            }
            Expr::IsNan(a) => match a.data_type(schema)? {
                t if t.numeric() => Ok(ExprType::Bool),
                t => mismatch(format!("'is nan' needs a number, got {}", t.name())),
            },
        }
    }

    /// Checks that the expression is a condition on rows of `schema` (for `filter`).
    pub fn check(&self, schema: &Schema) -> Result<()> {
        match self.data_type(schema)? {
            ExprType::Bool => Ok(()),
            t => Err(Error::InvalidArgument(format!(
                "filter '{self}': the expression is {}, not a condition",
                t.name()
            ))),
        }
    }

    /// Evaluates a condition to a row mask (null counts as false when filtering).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let array = self.evaluate_array(batch)?;
        array
            .as_boolean_opt()
            .cloned()
            .ok_or_else(|| Error::InvalidArgument(format!("'{self}' is not a condition")))
    }

    /// Evaluates to one value per row.
    pub fn evaluate_array(&self, batch: &RecordBatch) -> Result<ArrayRef> {
        self.eval(batch)?.into_array(batch.num_rows())
    }

    fn err(&self, e: arrow::error::ArrowError) -> Error {
        Error::arrow(format!("evaluating '{self}'"), e)
    }

    fn eval(&self, batch: &RecordBatch) -> Result<Value> {
        let schema = batch.schema();
        match self {
            Expr::Column(c) => batch
                .column_by_name(c)
                .cloned()
                .map(Value::Array)
                .ok_or_else(|| Error::unknown_column(c.clone(), format!("'{self}'"), &schema)),
            Expr::Literal(l) => Ok(Value::Scalar(literal_array(l))),
            Expr::Arith(a, op, b) => {
                let target = if self.data_type(&schema)? == ExprType::Float {
                    DataType::Float64
                } else {
                    DataType::Int64
                };
                let to = |v: Value| v.map(|a| cast(a, &target).map_err(|e| self.err(e)));
                let (l, r) = (to(a.eval(batch)?)?, to(b.eval(batch)?)?);
                let (ld, rd) = (l.datum(), r.datum());
                let out = match op {
                    ArithOp::Add => numeric::add_wrapping(ld.as_ref(), rd.as_ref()),
                    ArithOp::Sub => numeric::sub_wrapping(ld.as_ref(), rd.as_ref()),
                    ArithOp::Mul => numeric::mul_wrapping(ld.as_ref(), rd.as_ref()),
                    ArithOp::Div => numeric::div(ld.as_ref(), rd.as_ref()),
                }
                .map_err(|e| self.err(e))?;
                Ok(both_scalar(&l, &r, out))
            }
            Expr::Neg(a) => {
                let v = a.eval(batch)?;
                v.map(|x| numeric::neg_wrapping(x).map_err(|e| self.err(e)))
            }
            Expr::Compare(a, op, b) => {
                let (l, r) = self.comparable(a.eval(batch)?, b.eval(batch)?, &schema, a, b)?;
                let (ld, rd) = (l.datum(), r.datum());
                let (ld, rd) = (ld.as_ref(), rd.as_ref());
                let out = match op {
                    CmpOp::Eq => cmp::eq(ld, rd),
                    CmpOp::NotEq => cmp::neq(ld, rd),
                    CmpOp::Lt => cmp::lt(ld, rd),
                    CmpOp::LtEq => cmp::lt_eq(ld, rd),
                    CmpOp::Gt => cmp::gt(ld, rd),
                    CmpOp::GtEq => cmp::gt_eq(ld, rd),
                }
                .map_err(|e| self.err(e))?;
                let out = self.ieee_nan(out, &l, &r, *op, batch.num_rows())?;
                Ok(both_scalar(&l, &r, Arc::new(out)))
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let rows = batch.num_rows();
                let l = a.eval(batch)?.into_array(rows)?;
                let r = b.eval(batch)?.into_array(rows)?;
                let (l, r) = (l.as_boolean(), r.as_boolean());
                let out = if matches!(self, Expr::And(..)) {
                    boolean::and_kleene(l, r)
                } else {
                    boolean::or_kleene(l, r)
                }
                .map_err(|e| self.err(e))?;
                Ok(Value::Array(Arc::new(out)))
            }
            Expr::Not(a) => a.eval(batch)?.map(|x| {
                boolean::not(x.as_boolean())
                    .map(|b| Arc::new(b) as ArrayRef)
                    .map_err(|e| self.err(e))
            }),
            Expr::IsIn(a, values) => {
                let mut mask: Option<ArrayRef> = None;
                for v in values {
                    let one =
                        Expr::Compare(a.clone(), CmpOp::Eq, Box::new(Expr::Literal(v.clone())))
                            .evaluate_array(batch)?;
                    mask = Some(match mask {
                        None => one,
                        Some(m) => Arc::new(
                            boolean::or_kleene(m.as_boolean(), one.as_boolean())
                                .map_err(|e| self.err(e))?,
                        ),
                    });
                }
                match mask {
                    Some(m) => Ok(Value::Array(m)),
                    None => Ok(Value::Scalar(Arc::new(BooleanArray::from(vec![false])))),
                }
            }
            Expr::Call(func, items) => self.call(*func, items, batch),
            Expr::IsNull(a) => a.eval(batch)?.map(|x| {
                is_null(x)
                    .map(|b| Arc::new(b) as ArrayRef)
                    .map_err(|e| self.err(e))
            }),
            Expr::IsNan(a) => a.eval(batch)?.map(|x| {
                let out: BooleanArray = nan_rows(x).into_iter().map(Some).collect();
                Ok(Arc::new(out) as ArrayRef)
            }),
        }
    }

    /// Arrow orders floats totally (NaN equals NaN and sorts last, -0.0 < 0.0); comparisons
    /// here follow IEEE and pandas instead: with a NaN operand every comparison is false but
    /// `!=`, and -0.0 equals 0.0 (see `comparable`).
    fn ieee_nan(
        &self,
        out: BooleanArray,
        l: &Value,
        r: &Value,
        op: CmpOp,
        rows: usize,
    ) -> Result<BooleanArray> {
        let nan_mask = |v: &Value| -> Option<Vec<bool>> {
            let (a, scalar) = match v {
                Value::Array(a) => (a, false),
                Value::Scalar(a) => (a, true),
            };
            let f = a.as_primitive_opt::<Float64Type>()?;
            if !f.values().iter().any(|x| x.is_nan()) {
                return None;
            }
            Some(if scalar {
                vec![f.value(0).is_nan(); rows]
            } else {
                f.values().iter().map(|x| x.is_nan()).collect()
            })
        };
        let (ln, rn) = (nan_mask(l), nan_mask(r));
        if ln.is_none() && rn.is_none() {
            return Ok(out);
        }
        let nan: Vec<bool> = (0..out.len())
            .map(|i| {
                ln.as_ref().is_some_and(|m| m[i.min(m.len() - 1)])
                    || rn.as_ref().is_some_and(|m| m[i.min(m.len() - 1)])
            })
            .collect();
        let values: Vec<Option<bool>> = out
            .iter()
            .zip(nan)
            .map(|(v, n)| v.map(|v| if n { op == CmpOp::NotEq } else { v }))
            .collect();
        Ok(BooleanArray::from(values))
    }

    /// Brings two operands of a comparison to one Arrow type: numbers to Int64 or Float64,
    /// a string literal to the other side's (possibly dictionary) string type, two string
    /// columns to Utf8.
    fn comparable(
        &self,
        l: Value,
        r: Value,
        schema: &Schema,
        a: &Expr,
        b: &Expr,
    ) -> Result<(Value, Value)> {
        let (ta, tb) = (a.data_type(schema)?, b.data_type(schema)?);
        let cast_to = |v: Value, dt: &DataType| v.map(|x| cast(x, dt).map_err(|e| self.err(e)));
        if ta.numeric() {
            if ta == ExprType::Float || tb == ExprType::Float {
                // Arrow's total order tells -0.0 from 0.0; IEEE (and pandas) do not. Adding
                // 0.0 turns -0.0 into 0.0 and leaves every other value as it is.
                let zero = Float64Array::from(vec![0.0]);
                let plus_zero = |v: Value| {
                    v.map(|x| {
                        let x = cast(x, &DataType::Float64).map_err(|e| self.err(e))?;
                        numeric::add(&x, &Scalar::new(&zero)).map_err(|e| self.err(e))
                    })
                };
                return Ok((plus_zero(l)?, plus_zero(r)?));
            }
            return Ok((cast_to(l, &DataType::Int64)?, cast_to(r, &DataType::Int64)?));
        }
        match (&l, &r) {
            (Value::Array(x), Value::Scalar(_)) => {
                let dt = x.data_type().clone();
                Ok((l, cast_to(r, &dt)?))
            }
            (Value::Scalar(_), Value::Array(y)) => {
                let dt = y.data_type().clone();
                Ok((cast_to(l, &dt)?, r))
            }
            _ if ta == ExprType::Str => {
                Ok((cast_to(l, &DataType::Utf8)?, cast_to(r, &DataType::Utf8)?))
            }
            _ => Ok((l, r)),
        }
    }

    fn call(&self, func: Func, items: &[Expr], batch: &RecordBatch) -> Result<Value> {
        let rows = batch.num_rows();
        match func {
            Func::CountValid => {
                let mut count = vec![0i64; rows];
                for e in items {
                    let values = e.evaluate_array(batch)?;
                    for (c, ok) in count.iter_mut().zip(valid_rows(&values)) {
                        *c += i64::from(ok);
                    }
                }
                Ok(Value::Array(Arc::new(Int64Array::from(count))))
            }
            Func::Coalesce => {
                let target = match self.data_type(&batch.schema())? {
                    ExprType::Int => DataType::Int64,
                    ExprType::Float => DataType::Float64,
                    ExprType::Bool => DataType::Boolean,
                    ExprType::Str => DataType::Utf8,
                };
                // Row r takes the first argument valid there (null when none is).
                let mut pick: Vec<Option<usize>> = vec![None; rows];
                let mut arrays = Vec::with_capacity(items.len());
                for (k, e) in items.iter().enumerate() {
                    let values = e.evaluate_array(batch)?;
                    for (p, ok) in pick.iter_mut().zip(valid_rows(&values)) {
                        if p.is_none() && ok {
                            *p = Some(k);
                        }
                    }
                    arrays.push(cast(&values, &target).map_err(|er| self.err(er))?);
                }
                let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
                let nulls = arrow::array::new_null_array(&target, 1);
                let mut all = refs.clone();
                all.push(nulls.as_ref());
                let idx: Vec<(usize, usize)> = pick
                    .iter()
                    .enumerate()
                    .map(|(r, p)| p.map_or((items.len(), 0), |k| (k, r)))
                    .collect();
                arrow::compute::interleave(&all, &idx)
                    .map(Value::Array)
                    .map_err(|e| self.err(e))
            }
            Func::UniformHash => {
                let rows_of = |e: &Expr| -> Result<ArrayRef> {
                    cast(&e.evaluate_array(batch)?, &DataType::Int64).map_err(|er| self.err(er))
                };
                let (x, seed) = (rows_of(&items[0])?, rows_of(&items[1])?);
                let (x, seed) = (
                    x.as_primitive::<arrow::datatypes::Int64Type>(),
                    seed.as_primitive::<arrow::datatypes::Int64Type>(),
                );
                let out: Float64Array = x
                    .iter()
                    .zip(seed.iter())
                    .map(|(v, s)| match (v, s) {
                        (Some(v), Some(s)) => {
                            let h = crate::rng::Rng::new((v as u64) ^ (s as u64).rotate_left(32))
                                .next_u64();
                            Some((h >> 11) as f64 / (1u64 << 53) as f64)
                        }
                        _ => None,
                    })
                    .collect();
                Ok(Value::Array(Arc::new(out)))
            }
            Func::Abs => {
                let v = items[0].eval(batch)?;
                v.map(|x| {
                    let x = match ExprType::of_arrow(x.data_type()) {
                        Some(ExprType::Int) => cast(x, &DataType::Int64),
                        _ => cast(x, &DataType::Float64),
                    }
                    .map_err(|e| self.err(e))?;
                    Ok(match x.data_type() {
                        DataType::Int64 => Arc::new(Int64Array::from_iter(
                            x.as_primitive::<arrow::datatypes::Int64Type>()
                                .iter()
                                .map(|v| v.map(i64::wrapping_abs)),
                        )) as ArrayRef,
                        _ => Arc::new(Float64Array::from_iter(
                            x.as_primitive::<Float64Type>()
                                .iter()
                                .map(|v| v.map(f64::abs)),
                        )),
                    })
                })
            }
            f => {
                let op = f.unary_float().ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "'{self}': {} is not a number function",
                        f.name()
                    ))
                })?;
                let v = items[0].eval(batch)?;
                v.map(|x| {
                    let x = cast(x, &DataType::Float64).map_err(|e| self.err(e))?;
                    Ok(Arc::new(Float64Array::from_iter(
                        x.as_primitive::<Float64Type>().iter().map(|v| v.map(op)),
                    )) as ArrayRef)
                })
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) => 3,
            Expr::Compare(..) | Expr::IsIn(..) | Expr::IsNull(_) | Expr::IsNan(_) => 4,
            Expr::Arith(_, ArithOp::Add | ArithOp::Sub, _) => 5,
            Expr::Arith(_, ArithOp::Mul | ArithOp::Div, _) => 6,
            Expr::Neg(_) => 7,
            Expr::Column(_) | Expr::Literal(_) | Expr::Call(..) => 8,
        }
    }
}

/// Which values are a float NaN (false for nulls and for non-float arrays).
fn nan_rows(x: &ArrayRef) -> Vec<bool> {
    let is_nan = |f: &arrow::array::Float64Array| -> Vec<bool> {
        f.iter().map(|v| v.is_some_and(f64::is_nan)).collect()
    };
    match x.as_primitive_opt::<Float64Type>() {
        Some(f) => is_nan(f),
        None if x.data_type().is_floating() => match cast(x, &DataType::Float64) {
            Ok(f) => is_nan(f.as_primitive::<Float64Type>()),
            Err(_) => vec![false; x.len()],
        },
        None => vec![false; x.len()],
    }
}

/// Which values are present: neither null nor NaN.
fn valid_rows(x: &ArrayRef) -> Vec<bool> {
    nan_rows(x)
        .into_iter()
        .enumerate()
        .map(|(i, nan)| !nan && x.is_valid(i))
        .collect()
}

fn both_scalar(l: &Value, r: &Value, out: ArrayRef) -> Value {
    if matches!((l, r), (Value::Scalar(_), Value::Scalar(_))) {
        Value::Scalar(out)
    } else {
        Value::Array(out)
    }
}

fn literal_array(l: &Literal) -> ArrayRef {
    match l {
        Literal::Int(v) => Arc::new(Int64Array::from(vec![*v])),
        Literal::Float(v) => Arc::new(Float64Array::from(vec![*v])),
        Literal::Str(v) => Arc::new(StringArray::from(vec![v.as_str()])),
        Literal::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
    }
}

/// A column name as the query language reads it: bare when it is a plain identifier that
/// is not a keyword, else in backticks.
fn column_text(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !super::query::is_keyword(name);
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.precedence();
        // Left operands print bare at equal precedence, right operands in parentheses, so
        // the text parses back to the same tree (all binary operators are left-associative).
        // Comparisons do not chain: an operand that is itself a comparison gets parentheses.
        let chains = p != 4;
        let side = |e: &Expr, right: bool| {
            if e.precedence() < p || ((right || !chains) && e.precedence() == p) {
                format!("({e})")
            } else {
                e.to_string()
            }
        };
        match self {
            Expr::Column(c) => f.write_str(&column_text(c)),
            Expr::Literal(l) => write!(f, "{l}"),
            Expr::Arith(a, op, b) => write!(f, "{} {op} {}", side(a, false), side(b, true)),
            // `-(3)` negates a literal; `-3` is the literal itself (the parser reads it so).
            Expr::Neg(a) if matches!(**a, Expr::Literal(_)) => write!(f, "-({a})"),
            Expr::Neg(a) => write!(f, "-{}", side(a, false)),
            Expr::Compare(a, op, b) => write!(f, "{} {op} {}", side(a, false), side(b, true)),
            Expr::And(a, b) => write!(f, "{} and {}", side(a, false), side(b, true)),
            Expr::Or(a, b) => write!(f, "{} or {}", side(a, false), side(b, true)),
            Expr::Not(a) => write!(f, "not {}", side(a, false)),
            Expr::IsIn(a, values) => {
                let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "{} in ({})", side(a, true), list.join(", "))
            }
            Expr::IsNull(a) => write!(f, "{} is null", side(a, true)),
            Expr::IsNan(a) => write!(f, "{} is nan", side(a, true)),
            Expr::Call(func, items) => {
                let list: Vec<String> = items.iter().map(|e| e.to_string()).collect();
                write!(f, "{}({})", func.name(), list.join(", "))
            }
        }
    }
}
