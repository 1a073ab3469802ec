//! `key=value` parts of file paths (hive `survey=ztf/`, HiPSCat `Norder=1/Dir=0/Npix=5`)
//! are columns: constant per file, filterable, and used to skip whole files.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::prelude::*;
use std::path::Path;

/// Three HiPSCat-like pixels and one hive-like survey directory.
fn layout(root: &Path) {
    for (i, rel) in [
        "Norder=1/Dir=0/Npix=5",
        "Norder=1/Dir=0/Npix=7",
        "Norder=2/Dir=0/Npix=40",
    ]
    .iter()
    .enumerate()
    {
        let dir = root.join("tmp").join(i.to_string());
        let cfg = GeneratorConfig {
            objects: 5,
            observations: 8,
            first_id: 1000 * (i as i64 + 1),
            seed: i as u64,
            ..GeneratorConfig::default()
        };
        generate(&cfg, &dir).unwrap();
        let target = root.join(format!("{rel}.parquet"));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::rename(dir.join("part-00000.parquet"), &target).unwrap();
    }
    std::fs::remove_dir_all(root.join("tmp")).unwrap();
}

fn open(root: &Path) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(root, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    ens
}

#[test]
fn hipscat_keys_are_integer_columns_that_skip_files() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path());
    let ens = open(dir.path());
    let schema = ens.source_table().unwrap().schema.clone();
    for key in ["Norder", "Dir", "Npix"] {
        let f = schema.field_with_name(key).unwrap();
        assert_eq!(f.data_type(), &DataType::Int64, "{key}");
        assert!(!f.is_nullable(), "{key}");
    }
    let all = ens.source().unwrap().compute().unwrap();
    assert_eq!(all.num_rows(), 3 * 5 * 8);
    let npix = all
        .column_by_name("Npix")
        .unwrap()
        .as_primitive::<Int64Type>();
    let ids = all
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>();
    for (id, p) in ids.values().iter().zip(npix.values()) {
        let want = match id / 1000 {
            1 => 5,
            2 => 7,
            _ => 40,
        };
        assert_eq!(*p, want, "object {id}");
    }
    // A filter on a key reads only the files whose key can match.
    let frame = ens
        .source()
        .unwrap()
        .query("Norder == 1 and Npix > 5")
        .unwrap();
    let (rows, metrics) = frame.compute_with_metrics().unwrap();
    assert_eq!(rows.num_rows(), 40);
    let (_, all_metrics) = ens.source().unwrap().compute_with_metrics().unwrap();
    assert!(metrics.bytes_read * 2 < all_metrics.bytes_read);
    assert!(frame.explain().unwrap().contains("row_groups_skipped=2/3"));
    // Per-pixel statistics through the key column.
    let per_pixel = ens
        .source()
        .unwrap()
        .query("Npix == 40")
        .unwrap()
        .batch_named("nobs")
        .unwrap();
    assert_eq!(per_pixel.compute().unwrap().num_rows(), 5);
}

#[test]
fn hive_text_keys_and_keys_some_files_lack() {
    let dir = tempfile::tempdir().unwrap();
    let make = |rel: &str, first: i64| {
        let tmp = dir.path().join(format!("tmp{first}"));
        generate(
            &GeneratorConfig {
                objects: 3,
                observations: 4,
                first_id: first,
                ..GeneratorConfig::default()
            },
            &tmp,
        )
        .unwrap();
        let target = dir.path().join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::rename(tmp.join("part-00000.parquet"), &target).unwrap();
        std::fs::remove_dir_all(tmp).unwrap();
    };
    make("survey=ztf/night=12/a.parquet", 10);
    make("survey=ps1/night=x7/b.parquet", 20);
    make("survey=ps1/c.parquet", 30);
    let ens = open(dir.path());
    let schema = ens.source_table().unwrap().schema.clone();
    assert_eq!(
        schema.field_with_name("survey").unwrap().data_type(),
        &DataType::Utf8
    );
    // `x7` is not a number, so night is text; c.parquet has no night: null there.
    let night = schema.field_with_name("night").unwrap();
    assert_eq!(night.data_type(), &DataType::Utf8);
    assert!(night.is_nullable());
    let ps1 = ens
        .source()
        .unwrap()
        .query("survey == 'ps1'")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(ps1.num_rows(), 2 * 3 * 4);
    let nights = ps1.column_by_name("night").unwrap();
    assert_eq!(nights.null_count(), 12);
    let no_night = ens
        .source()
        .unwrap()
        .query("night is null")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(no_night.num_rows(), 12);
    let s = no_night
        .column_by_name("survey")
        .unwrap()
        .as_string::<i32>();
    assert!(s.iter().all(|v| v == Some("ps1")));
}
