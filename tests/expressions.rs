//! Expressions and the query language against an independent row-by-row interpreter:
//! random expression trees over random columns (nulls, NaN, negative numbers, strings)
//! evaluate to the same values; printing reads back to the same text; filters through the
//! public API keep exactly the rows the interpreter keeps; mistakes fail at the call.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use lsstseries::io::{source_batch, ColumnMap};
use lsstseries::plan::{parse_query, ArithOp, CmpOp, Expr, Literal};
use lsstseries::prelude::*;
use proptest::prelude::*;
use std::sync::Arc;

/// One value as the interpreter sees it (None = null).
#[derive(Debug, Clone, PartialEq)]
enum V {
    I(Option<i64>),
    F(Option<f64>),
    S(Option<String>),
    B(Option<bool>),
}

#[derive(Debug, Clone)]
struct Table {
    a: Vec<Option<i64>>,
    x: Vec<Option<f64>>,
    s: Vec<Option<String>>,
}

fn row_value(t: &Table, name: &str, r: usize) -> V {
    match name {
        "a" => V::I(t.a[r]),
        "x" => V::F(t.x[r]),
        "a_null" => V::I(None),
        _ => V::S(t.s[r].clone()),
    }
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::I(x) => x.map(|x| x as f64),
        V::F(x) => *x,
        _ => None,
    }
}

fn interp(e: &Expr, t: &Table, r: usize) -> V {
    match e {
        Expr::Column(c) => row_value(t, c, r),
        Expr::Literal(Literal::Int(v)) => V::I(Some(*v)),
        Expr::Literal(Literal::Float(v)) => V::F(Some(*v)),
        Expr::Literal(Literal::Str(v)) => V::S(Some(v.clone())),
        Expr::Literal(Literal::Bool(v)) => V::B(Some(*v)),
        Expr::Arith(a, op, b) => {
            let (x, y) = (interp(a, t, r), interp(b, t, r));
            match (&x, &y, op) {
                (V::I(p), V::I(q), op) if *op != ArithOp::Div => V::I(match (p, q) {
                    (Some(p), Some(q)) => Some(match op {
                        ArithOp::Add => p.wrapping_add(*q),
                        ArithOp::Sub => p.wrapping_sub(*q),
                        _ => p.wrapping_mul(*q),
                    }),
                    _ => None,
                }),
                _ => V::F(match (num(&x), num(&y)) {
                    (Some(p), Some(q)) => Some(match op {
                        ArithOp::Add => p + q,
                        ArithOp::Sub => p - q,
                        ArithOp::Mul => p * q,
                        ArithOp::Div => p / q,
                    }),
                    _ => None,
                }),
            }
        }
        Expr::Neg(a) => match interp(a, t, r) {
            V::I(x) => V::I(x.map(i64::wrapping_neg)),
            V::F(x) => V::F(x.map(|x| -x)),
            other => other,
        },
        Expr::Compare(a, op, b) => {
            let (x, y) = (interp(a, t, r), interp(b, t, r));
            let ord = match (&x, &y) {
                (V::I(Some(p)), V::I(Some(q))) => Some(p.cmp(q)),
                (V::S(Some(p)), V::S(Some(q))) => Some(p.as_bytes().cmp(q.as_bytes())),
                (V::B(Some(p)), V::B(Some(q))) => Some(p.cmp(q)),
                (V::I(None) | V::F(None) | V::S(None) | V::B(None), _)
                | (_, V::I(None) | V::F(None) | V::S(None) | V::B(None)) => return V::B(None),
                _ => {
                    let (p, q) = (num(&x).unwrap(), num(&y).unwrap());
                    if p.is_nan() || q.is_nan() {
                        return V::B(Some(*op == CmpOp::NotEq));
                    }
                    p.partial_cmp(&q)
                }
            };
            let o = ord.unwrap();
            V::B(Some(match op {
                CmpOp::Eq => o.is_eq(),
                CmpOp::NotEq => o.is_ne(),
                CmpOp::Lt => o.is_lt(),
                CmpOp::LtEq => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::GtEq => o.is_ge(),
            }))
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            let (V::B(x), V::B(y)) = (interp(a, t, r), interp(b, t, r)) else {
                unreachable!()
            };
            let and = matches!(e, Expr::And(..));
            V::B(match (x, y) {
                (Some(p), Some(q)) => Some(if and { p && q } else { p || q }),
                (Some(v), None) | (None, Some(v)) if v != and => Some(v),
                _ => None,
            })
        }
        Expr::Not(a) => match interp(a, t, r) {
            V::B(x) => V::B(x.map(|x| !x)),
            _ => unreachable!(),
        },
        Expr::IsIn(a, values) => {
            let mut acc = V::B(Some(false));
            for v in values {
                let one = interp(
                    &Expr::Compare(a.clone(), CmpOp::Eq, Box::new(Expr::Literal(v.clone()))),
                    t,
                    r,
                );
                acc = interp(
                    &Expr::Or(Box::new(to_lit(&acc)), Box::new(to_lit(&one))),
                    t,
                    r,
                );
            }
            acc
        }
        Expr::IsNull(a) => V::B(Some(matches!(
            interp(a, t, r),
            V::I(None) | V::F(None) | V::S(None) | V::B(None)
        ))),
        Expr::IsNan(a) => V::B(Some(matches!(interp(a, t, r), V::F(Some(x)) if x.is_nan()))),
        Expr::Call(lsstseries::plan::Func::CountValid, items) => V::I(Some(
            items
                .iter()
                .filter(|e| match interp(e, t, r) {
                    V::F(Some(x)) => !x.is_nan(),
                    V::I(Some(_)) | V::S(Some(_)) | V::B(Some(_)) => true,
                    _ => false,
                })
                .count() as i64,
        )),
        Expr::Call(..) => unreachable!("not generated"),
    }
}

/// A boolean as an expression (null as `null is null == false`, i.e. a null comparison).
fn to_lit(v: &V) -> Expr {
    match v {
        V::B(Some(b)) => Expr::Literal(Literal::Bool(*b)),
        _ => Expr::Compare(
            Box::new(Expr::Column("a_null".into())),
            CmpOp::Eq,
            Box::new(Expr::Literal(Literal::Int(0))),
        ),
    }
}

fn batch(t: &Table) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("a_null", DataType::Int64, true),
    ]));
    let n = t.a.len();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(t.a.clone())),
        Arc::new(Float64Array::from(t.x.clone())),
        Arc::new(StringArray::from(t.s.clone())),
        Arc::new(Int64Array::from(vec![None::<i64>; n])),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn actual(array: &ArrayRef, r: usize) -> V {
    let null = array.is_null(r);
    match array.data_type() {
        DataType::Int64 => V::I((!null).then(|| array.as_primitive::<Int64Type>().value(r))),
        DataType::Float64 => V::F((!null).then(|| array.as_primitive::<Float64Type>().value(r))),
        DataType::Boolean => V::B((!null).then(|| array.as_boolean().value(r))),
        _ => V::S((!null).then(|| array.as_string::<i32>().value(r).to_string())),
    }
}

fn same(x: &V, y: &V) -> bool {
    match (x, y) {
        (V::F(Some(p)), V::F(Some(q))) => p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
        _ => x == y,
    }
}

fn literal_num() -> impl Strategy<Value = Literal> {
    prop_oneof![
        (-5i64..5).prop_map(Literal::Int),
        prop_oneof![Just(0.5), Just(-1.5), Just(2.0), Just(f64::NAN)].prop_map(Literal::Float),
    ]
}

fn numeric() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        Just(Expr::Column("a".into())),
        Just(Expr::Column("x".into())),
        literal_num().prop_map(Expr::Literal),
        Just(Expr::count_valid([
            Expr::Column("a".into()),
            Expr::Column("x".into()),
            Expr::Column("s".into()),
        ])),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), 0..4usize).prop_map(|(a, b, k)| {
                let op = [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div][k];
                Expr::Arith(Box::new(a), op, Box::new(b))
            }),
            inner.prop_map(|a| Expr::Neg(Box::new(a))),
        ]
    })
}

fn condition() -> impl Strategy<Value = Expr> {
    let ops = [
        CmpOp::Eq,
        CmpOp::NotEq,
        CmpOp::Lt,
        CmpOp::LtEq,
        CmpOp::Gt,
        CmpOp::GtEq,
    ];
    let leaf = prop_oneof![
        (numeric(), numeric(), 0..6usize).prop_map(move |(a, b, k)| Expr::Compare(
            Box::new(a),
            ops[k],
            Box::new(b)
        )),
        (prop_oneof![Just("g"), Just("r"), Just("")], 0..6usize).prop_map(move |(v, k)| {
            Expr::Compare(
                Box::new(Expr::Column("s".into())),
                ops[k],
                Box::new(Expr::Literal(Literal::Str(v.into()))),
            )
        }),
        (numeric(), proptest::collection::vec(literal_num(), 0..3))
            .prop_map(|(a, v)| Expr::IsIn(Box::new(a), v)),
        Just(Expr::Column("s".into()).is_in(["g", "i"])),
        numeric().prop_map(|a| Expr::IsNull(Box::new(a))),
        numeric().prop_map(|a| Expr::IsNan(Box::new(a))),
    ];
    leaf.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.prop_map(|a| !a),
        ]
    })
}

fn table() -> impl Strategy<Value = Table> {
    (1usize..30).prop_flat_map(|n| {
        (
            proptest::collection::vec(proptest::option::weighted(0.85, -4i64..4), n),
            proptest::collection::vec(
                proptest::option::weighted(
                    0.85,
                    prop_oneof![Just(f64::NAN), Just(-0.0), (-3.0f64..3.0)],
                ),
                n,
            ),
            proptest::collection::vec(
                proptest::option::weighted(
                    0.85,
                    prop_oneof![
                        Just("g".to_string()),
                        Just("r".to_string()),
                        Just("z".to_string())
                    ],
                ),
                n,
            ),
        )
            .prop_map(|(a, x, s)| Table { a, x, s })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn conditions_match_the_interpreter(t in table(), e in condition()) {
        let b = batch(&t);
        let got = e.evaluate_array(&b).unwrap();
        for r in 0..b.num_rows() {
            let want = interp(&e, &t, r);
            prop_assert!(same(&actual(&got, r), &want), "row {}: {} gave {:?}, want {:?}", r, e, actual(&got, r), want);
        }
        // The text reads back to an expression printing the same, and computing the same.
        let text = e.to_string();
        let back = parse_query(&text).unwrap();
        prop_assert_eq!(back.to_string(), text.clone());
        let again = back.evaluate_array(&b).unwrap();
        for r in 0..b.num_rows() {
            prop_assert!(same(&actual(&again, r), &actual(&got, r)), "{} row {}", text, r);
        }
        // Filtering keeps exactly the rows that are true.
        let mask: BooleanArray = e.evaluate(&b).unwrap();
        let kept = (0..b.num_rows()).filter(|&r| mask.is_valid(r) && mask.value(r)).count();
        let want = (0..b.num_rows()).filter(|&r| interp(&e, &t, r) == V::B(Some(true))).count();
        prop_assert_eq!(kept, want);
    }

    #[test]
    fn arithmetic_matches_the_interpreter(t in table(), e in numeric()) {
        let b = batch(&t);
        let got = e.evaluate_array(&b).unwrap();
        for r in 0..b.num_rows() {
            let want = interp(&e, &t, r);
            prop_assert!(same(&actual(&got, r), &want), "row {}: {} gave {:?}, want {:?}", r, e, actual(&got, r), want);
        }
    }

    /// Any text either parses or fails with a position inside it; never a panic.
    #[test]
    fn any_text_parses_or_fails_with_a_position(q in "[a-z0-9 ()'\"`=!<>+*/&|~,.-]{0,30}") {
        match parse_query(&q) {
            Ok(e) => { let _ = e.to_string(); }
            Err(Error::QuerySyntax { position, .. }) => prop_assert!(position <= q.chars().count()),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

/// Through the public API on the bundled TAPE file: the query string and the typed
/// expression keep the same rows, equal to a count made by hand; mistakes fail at the call.
#[test]
fn query_and_typed_filters_agree_on_the_tape_file() {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::Count(7),
    )
    .unwrap();
    let all = ens.source().unwrap().compute().unwrap();
    let flux = all
        .column_by_name("psFlux")
        .unwrap()
        .as_primitive::<Float64Type>();
    let band =
        arrow::compute::cast(all.column_by_name("filterName").unwrap(), &DataType::Utf8).unwrap();
    let band = band.as_string::<i32>();
    let mut sorted: Vec<f64> = flux.values().to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = (sorted[sorted.len() / 2] * 2.0 - 10.0).round() as i64;
    let want = (0..all.num_rows())
        .filter(|&r| flux.value(r) * 2.0 - 10.0 > cut as f64 && ["g", "r"].contains(&band.value(r)))
        .count();
    let q = ens
        .source()
        .unwrap()
        .query(&format!(
            "psFlux * 2 - 10 > {cut} and filterName in ('g', 'r')"
        ))
        .unwrap()
        .compute()
        .unwrap();
    let typed = ens
        .source()
        .unwrap()
        .filter(
            (col("psFlux") * 2 - 10)
                .gt(cut)
                .and(col("filterName").is_in(["g", "r"])),
        )
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(q.num_rows(), want);
    assert!(
        want > 0 && want < all.num_rows(),
        "{want} of {} rows, cut {cut}",
        all.num_rows()
    );
    assert_eq!(q, typed);

    let src = ens.source().unwrap();
    let err = src.query("psFlux > 1 and nosuch == 2").unwrap_err();
    assert!(err.to_string().contains("nosuch"), "{err}");
    let err = src.query("filterName > 3").unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot compare a string with an integer"),
        "{err}"
    );
    let err = src.query("psFlux + 1").unwrap_err();
    assert!(err.to_string().contains("not a condition"), "{err}");
    let err = src.query("psFlux >> 1").unwrap_err();
    assert!(
        matches!(err, Error::QuerySyntax { position: 8, .. }),
        "{err}"
    );
}

/// NaN compares as in pandas (every comparison false but `!=`), not as Arrow's total order,
/// where NaN is greater than every number.
#[test]
fn nan_never_passes_a_comparison() {
    let b = source_batch(
        &ColumnMap::generated(),
        vec![1, 1, 2],
        vec![0.0, 1.0, 2.0],
        vec![f64::NAN, 5.0, 7.0],
        vec![0.1, 0.1, 0.1],
        vec!["g", "g", "r"],
    )
    .unwrap();
    let e = col("flux").gt(0.0);
    let mask = e.evaluate(&b).unwrap();
    assert_eq!(
        mask.iter().collect::<Vec<_>>(),
        vec![Some(false), Some(true), Some(true)]
    );
    let mask = col("flux").not_eq(col("flux")).evaluate(&b).unwrap();
    assert_eq!(
        mask.iter().collect::<Vec<_>>(),
        vec![Some(true), Some(false), Some(false)]
    );
}
