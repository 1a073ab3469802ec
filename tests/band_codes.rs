//! Bands stored as integer codes (PS1's `filterID`) and TAPE's known ZTF/PS1 column maps:
//! a coded file gives exactly what the same rows with band names give.

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt8Array};
use arrow::datatypes::{DataType, Field, Schema};
use lsstseries::io::{BandCodes, IfExists};
use lsstseries::prelude::*;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

const BANDS: [&str; 5] = ["g", "r", "i", "z", "y"];

/// 30 objects x 12 observations; the band as PS1 codes (UInt8) or as names.
fn write(path: &Path, coded: bool, codes_offset: u8) {
    let n = 30 * 12;
    let ids: Vec<i64> = (0..n).map(|r| 1000 + (r / 12) as i64).collect();
    let band_of = |r: usize| (r * 7 + r / 12) % 5;
    let band: ArrayRef = if coded {
        Arc::new(UInt8Array::from_iter_values(
            (0..n).map(|r| band_of(r) as u8 + codes_offset),
        ))
    } else {
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|r| BANDS[band_of(r)]),
        ))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("objID", DataType::Int64, false),
        Field::new("obsTime", DataType::Float64, false),
        Field::new("apFlux", DataType::Float64, false),
        Field::new("apFluxErr", DataType::Float64, false),
        Field::new("filterID", band.data_type().clone(), false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|r| r as f64 * 0.37),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|r| 20.0 + ((r * 13) % 17) as f64 * 0.1),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|r| 0.05 + (r % 3) as f64 * 0.01),
            )),
            band,
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(48))
        .build();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn open(path: &Path, map: ColumnMap) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(path, map, Partitioning::Count(4)).unwrap();
    ens
}

#[test]
fn coded_bands_equal_named_bands() {
    let dir = tempfile::tempdir().unwrap();
    let (coded, named) = (
        dir.path().join("coded.parquet"),
        dir.path().join("named.parquet"),
    );
    write(&coded, true, 1);
    write(&named, false, 1);
    let c = open(&coded, ColumnMap::ps1(false));
    let n = open(
        &named,
        ColumnMap::new("objID", "obsTime", "apFlux", "apFluxErr", "filterID"),
    );
    assert_eq!(
        c.source_table().unwrap().bands,
        n.source_table().unwrap().bands
    );
    for name in ["stetson_j", "nobs", "features"] {
        assert_eq!(
            c.batch_named(name).unwrap().compute().unwrap(),
            n.batch_named(name).unwrap().compute().unwrap(),
            "{name}"
        );
    }
    // Filters compare names, also where row-group statistics hold codes.
    for q in [
        "filterID == 'g'",
        "filterID in ('z', 'y') and apFlux > 20.5",
    ] {
        let a = c.source().unwrap().query(q).unwrap().compute().unwrap();
        let b = n.source().unwrap().query(q).unwrap().compute().unwrap();
        assert!(a.num_rows() > 0, "{q}");
        assert_eq!(a, b, "{q}");
    }
}

#[test]
fn unknown_codes_and_wrong_types_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let coded = dir.path().join("coded.parquet");
    // Codes 3..=7: 6 and 7 are not PS1 filters.
    write(&coded, true, 3);
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    let err = ens
        .from_parquet(&coded, ColumnMap::ps1(false), Partitioning::Count(2))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("filterID") && text.contains("do not name"),
        "{text}"
    );
    // Names where codes are expected, and codes without a map.
    let named = dir.path().join("named.parquet");
    write(&named, false, 1);
    let err = ens
        .from_parquet(&named, ColumnMap::ps1(false), Partitioning::Count(2))
        .unwrap_err();
    assert!(err.to_string().contains("integer"), "{err}");
    let plain = ColumnMap::new("objID", "obsTime", "apFlux", "apFluxErr", "filterID");
    let err = ens
        .from_parquet(&coded, plain.clone(), Partitioning::Count(2))
        .unwrap_err();
    assert!(err.to_string().contains("band-code map"), "{err}");
    // A map of its own naming every code works.
    let codes: BandCodes = "3=u,4=g,5=r,6=i,7=z".parse().unwrap();
    ens.from_parquet(&coded, plain.with_band_codes(codes), Partitioning::Count(2))
        .unwrap();
    assert_eq!(ens.source_table().unwrap().bands, ["g", "i", "r", "u", "z"]);
}

#[test]
fn known_maps_are_tapes() {
    let z = ColumnMap::ztf(true);
    assert_eq!(
        (
            z.id.as_str(),
            z.time.as_str(),
            z.flux.as_str(),
            z.err.as_str(),
            z.band.as_str()
        ),
        ("_hipscat_index", "mjd", "mag", "magerr", "band")
    );
    assert_eq!(ColumnMap::ztf(false).id, "ps1_objid");
    let p = ColumnMap::ps1(false);
    assert_eq!(
        (
            p.id.as_str(),
            p.time.as_str(),
            p.flux.as_str(),
            p.err.as_str(),
            p.band.as_str()
        ),
        ("objID", "obsTime", "apFlux", "apFluxErr", "filterID")
    );
    assert_eq!(p.band_codes, Some(BandCodes::ps1()));
    assert_eq!(ColumnMap::ps1(true).id, "_hipscat_index");
}

#[test]
fn codes_survive_save_and_reload_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let coded = dir.path().join("coded.parquet");
    write(&coded, true, 1);
    let ens = open(&coded, ColumnMap::ps1(false));
    let saved = dir.path().join("saved");
    ens.save_ensemble(&saved, IfExists::Refuse).unwrap();
    let mut again = Ensemble::builder().n_workers(2).build().unwrap();
    again.from_ensemble(&saved).unwrap();
    assert_eq!(
        ens.batch_named("stetson_j").unwrap().compute().unwrap(),
        again.batch_named("stetson_j").unwrap().compute().unwrap()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(["batch", "nobs"])
        .arg(&coded)
        .args(["--columns", "ps1", "--out"])
        .arg(dir.path().join("n.csv"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("n.csv")).unwrap();
    assert!(
        csv.starts_with("objID,nobs_g,nobs_i,nobs_r,nobs_y,nobs_z,nobs_total"),
        "{csv}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(["info"])
        .arg(&coded)
        .args(["--columns", "ps1", "--band-codes", "1=g,1=r"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("code 1 given twice"));
}
