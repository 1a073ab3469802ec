//! `Frame`: a lazy handle on a plan. Each call adds a node (checked at once); `compute()`
//! optimizes, plans stages and runs them.

use crate::analysis::structure_function::{self, SfOptions, StructureFunction};
use crate::analysis::{FunctionRegistry, LightcurveFunction, ObjectColumns};
use crate::cluster::ClusterBackend;
use crate::error::{Error, Result};
use crate::executor::{Cancellation, ComputeHandle, ComputePlan, Executor};
use crate::explain;
use crate::io::{
    write_csv_stream, write_parquet_stream, BadValues, ColumnMap, IdKey, IfExists, ObjectTable,
    Role,
};
use crate::optimizer::{OptimizedPlan, Optimizer};
use crate::physical::{PhysicalPlan, ResultStream, RunMetrics};
use crate::plan::{
    AggregateNode, ApplySpec, BatchMode, Expr, JoinObjectsSpec, KeepObjectsSpec, LogicalPlan,
    MapFunction, PartitionOp, PlanNode, Predicate,
};
use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use std::sync::Arc;

/// The zero point of [`Frame::convert_flux_to_mag`].
#[derive(Debug, Clone, PartialEq)]
pub enum ZeroPoint {
    /// A magnitude zero point: mag = -2.5 log10(flux) + zp.
    Mag(f64),
    /// A column of magnitude zero points.
    MagColumn(String),
    /// A flux zero point: mag = -2.5 log10(flux / zp).
    Flux(f64),
    /// A column of flux zero points.
    FluxColumn(String),
}

/// Which rows [`Frame::dropna`] drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropNa {
    /// Rows with any missing value.
    Any,
    /// Rows with every value missing.
    All,
    /// Rows with fewer than this many present values.
    Thresh(usize),
}

/// A lazy computation over a source's partitions.
///
/// Rows per part when [`Frame::to_parquet`] cuts an id-ordered result into files.
pub const PART_ROWS: usize = 1 << 20;

/// A frame carries its session (the executor and the function registry of the
/// [`Ensemble`](crate::Ensemble) that made it), so a pipeline reads left to right:
///
/// ```no_run
/// use lsstseries::prelude::*;
/// let mut ens = Ensemble::new()?;
/// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::size("5KB")?)?;
/// let sj = ens.source()?.filter(col("psFlux").gt(0.0))?.batch_named("stetson_j")?.compute()?;
/// # Ok::<(), lsstseries::Error>(())
/// ```
#[derive(Clone)]
pub struct Frame {
    plan: LogicalPlan,
    executor: Arc<Executor>,
    registry: Arc<FunctionRegistry>,
    columns: ColumnMap,
    bands: Arc<Vec<String>>,
    id_key: IdKey,
    bad_values: BadValues,
    cancel: Cancellation,
    objects: Option<Arc<ObjectTable>>,
    /// Where computes run, when not on `executor`.
    cluster: Option<Arc<dyn ClusterBackend>>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("nodes", &self.plan.len())
            .finish()
    }
}

impl Frame {
    pub(crate) fn new(
        plan: LogicalPlan,
        executor: Arc<Executor>,
        registry: Arc<FunctionRegistry>,
        columns: ColumnMap,
        bands: Arc<Vec<String>>,
        id_key: IdKey,
        bad_values: BadValues,
    ) -> Self {
        Frame {
            plan,
            executor,
            registry,
            columns,
            bands,
            id_key,
            bad_values,
            cancel: Cancellation::new(),
            objects: None,
            cluster: None,
        }
    }

    /// The same frame, computed on `cluster` when it is `Some`.
    pub(crate) fn with_cluster(mut self, cluster: Option<Arc<dyn ClusterBackend>>) -> Frame {
        self.cluster = cluster;
        self
    }

    /// The cluster this frame's computes run on, if its ensemble has one.
    pub fn cluster(&self) -> Option<&Arc<dyn ClusterBackend>> {
        self.cluster.as_ref()
    }

    /// The cancellation this frame's computes obey (a cluster backend polls it too).
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancel
    }

    /// The same plan computed on this process's executor, even when the ensemble runs on
    /// a cluster (to compare, or to run what cannot ship).
    pub fn local(&self) -> Frame {
        self.clone().with_cluster(None)
    }

    /// The same frame with an object table file joined for object filters.
    pub(crate) fn with_objects(mut self, objects: Option<Arc<ObjectTable>>) -> Frame {
        self.objects = objects;
        self
    }

    fn push(&self, node: PlanNode) -> Result<Frame> {
        Ok(Frame {
            plan: self.plan.push(node)?,
            ..self.clone()
        })
    }

    /// Keeps rows matching `predicate`; unknown columns or mismatched types fail here.
    ///
    /// On a source with `UInt64` ids, a predicate on the id column is refused: rows hold
    /// engine keys there (see [`IdKey`]), which an `i64` literal would compare wrongly.
    pub fn filter(&self, predicate: Predicate) -> Result<Frame> {
        if self.id_key == IdKey::FlippedUInt64 && predicate.columns().contains(&self.columns.id) {
            return Err(Error::InvalidArgument(format!(
                "filter '{predicate}': filtering on the UInt64 id column '{}' is not supported",
                self.columns.id
            )));
        }
        self.push(PlanNode::Op(PartitionOp::Filter(predicate)))
    }

    /// Keeps rows matching a query string, e.g. `"flux > 0 and band in ('g', 'r')"` (the
    /// language of [`parse_query`](crate::plan::parse_query)); syntax errors give the
    /// position, unknown columns and type mismatches fail here.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let bright = ens.source()?.query("psFlux > 1000 and filterName == 'g'")?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn query(&self, query: &str) -> Result<Frame> {
        self.filter(crate::plan::parse_query(query)?)
    }

    /// Keeps the rows of the objects whose values of `function` (one row per object, or
    /// several for a many-row function: then any passing row keeps the object) satisfy
    /// `predicate`: filtering the object table and letting the sources follow, as one plan
    /// node (a semi-join by id, local to each partition once lightcurves are whole: the
    /// optimizer re-cuts or shuffles as for `batch`). The predicate is checked against the
    /// function's output columns here.
    pub fn filter_objects(
        &self,
        function: Arc<dyn LightcurveFunction>,
        predicate: Predicate,
    ) -> Result<Frame> {
        self.push(PlanNode::Op(PartitionOp::KeepObjects(KeepObjectsSpec {
            apply: self.apply_spec(function, BatchMode::Auto),
            predicate,
        })))
    }

    /// Keeps the rows of the objects whose object-table row satisfies `query` — TAPE's
    /// `query(..., table="object")` with the sources kept in step. The row holds the
    /// counts `nobs_<band>` and `nobs_total` (computed from the sources as they are at this
    /// point of the plan) and, when an object file was loaded
    /// ([`Ensemble::from_parquet_objects`](crate::Ensemble::from_parquet_objects)), its
    /// numeric columns.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let rich = ens.source()?.query_objects("nobs_r >= 50 and nobs_g >= 50")?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn query_objects(&self, query: &str) -> Result<Frame> {
        let predicate = crate::plan::parse_query(query)?;
        let Some(table) = &self.objects else {
            return self.filter_objects(self.registry.get("nobs")?, predicate);
        };
        let columns = predicate.columns();
        if !columns
            .iter()
            .any(|c| crate::analysis::Nobs::is_count_column(c, &self.bands))
        {
            // Object-file columns alone: a row-local semi-join, no regrouping by id.
            let input: Vec<String> = self
                .schema()?
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            let project: Vec<&str> = input.iter().map(String::as_str).collect();
            return self
                .join_objects(&names)?
                .filter(predicate)?
                .select(&project);
        }
        if let Some((name, why)) = table
            .skipped
            .iter()
            .find(|(name, _)| columns.contains(name))
        {
            return Err(Error::InvalidArgument(format!(
                "query_objects '{query}': object column '{name}' ({why}) cannot be combined \
                 with counts in one query; query them one after the other, e.g. \
                 .query_objects(\"{name} == ...\")?.query_objects(\"nobs_total >= ...\")"
            )));
        }
        self.filter_objects(Arc::new(ObjectColumns::new(table.clone())), predicate)
    }

    /// Adds object-file columns to every row, looked up by its id (null for an object the
    /// file lacks): to sources, or to the results of [`Frame::batch`] (one row per object,
    /// so each result row gets its object's row). `columns` empty means every column of
    /// the file except the id and those this frame already has. A row-local join with the
    /// in-memory object table: it moves no data.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("sources.parquet", ColumnMap::tape(), Partitioning::RowGroups)?;
    /// ens.from_parquet_objects("objects.parquet")?;
    /// let j = ens.source()?.batch_named("stetson_j")?.join_objects(&["redshift"])?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn join_objects(&self, columns: &[&str]) -> Result<Frame> {
        let table = self.objects.clone().ok_or_else(|| {
            Error::InvalidArgument(
                "join_objects: no object table loaded (Ensemble::from_parquet_objects)".into(),
            )
        })?;
        let columns: Vec<String> = if columns.is_empty() {
            let schema = self.schema()?;
            table
                .value_fields()
                .filter(|f| schema.field_with_name(f.name()).is_err())
                .map(|f| f.name().clone())
                .collect()
        } else {
            columns.iter().map(|c| c.to_string()).collect()
        };
        self.push(PlanNode::Op(PartitionOp::JoinObjects(JoinObjectsSpec {
            table,
            id: self.columns.id.clone(),
            columns,
        })))
    }

    /// The object table of this frame's sources, lazily: one row per object with its
    /// counts `nobs_<band>` and `nobs_total` as the sources are at this point of the plan,
    /// and, when an object file was loaded, the file's other columns. An object whose
    /// sources were all filtered away is left out, unless `keep_empty_objects` (TAPE's
    /// flag): then every object of the object file is kept, with counts of 0. That needs
    /// an object file, since only it knows objects that have no sources.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("sources.parquet", ColumnMap::tape(), Partitioning::RowGroups)?;
    /// ens.from_parquet_objects("objects.parquet")?;
    /// let objects = ens.source()?.query("psFlux > 0")?.object_table(true)?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn object_table(&self, keep_empty_objects: bool) -> Result<Frame> {
        let counts = self.batch(Arc::new(crate::analysis::Nobs))?;
        let Some(table) = self.objects.clone() else {
            if keep_empty_objects {
                return Err(Error::InvalidArgument(
                    "object_table(keep_empty_objects): needs an object file \
                     (Ensemble::from_parquet_objects): only it lists objects without sources"
                        .into(),
                ));
            }
            return Ok(counts);
        };
        let joined = counts.join_objects(&[])?;
        if !keep_empty_objects {
            return Ok(joined);
        }
        let schema = joined.schema()?;
        let id = self.columns.id.clone();
        joined.aggregate(AggregateNode::new(
            "keep empty objects",
            schema,
            move |batch| table.add_missing(batch, &id),
        ))
    }

    /// Keeps the objects with at least `threshold` observations (TAPE's `prune`, on
    /// `nobs_total`), and their sources.
    pub fn prune(&self, threshold: u64) -> Result<Frame> {
        let threshold = i64::try_from(threshold).map_err(|_| {
            Error::InvalidArgument(format!("prune threshold {threshold} is out of range"))
        })?;
        self.filter_objects(
            self.registry.get("nobs")?,
            crate::plan::col("nobs_total").gt_eq(threshold),
        )
    }

    /// Drops rows with missing values (null, or NaN in a float column) in `subset` (all
    /// columns when empty), like pandas/TAPE `dropna`: `DropNa::Any` drops a row with any
    /// missing value, `DropNa::All` only a row with all of them missing, `DropNa::Thresh(n)`
    /// keeps rows with at least `n` present values. Lazy: a filter node.
    pub fn dropna(&self, how: DropNa, subset: &[&str]) -> Result<Frame> {
        let schema = self.schema()?;
        let columns: Vec<String> = if subset.is_empty() {
            schema.fields().iter().map(|f| f.name().clone()).collect()
        } else {
            subset.iter().map(|s| s.to_string()).collect()
        };
        let items: Vec<Predicate> = columns.iter().map(crate::plan::col).collect();
        let n = items.len() as i64;
        let valid = Predicate::count_valid(items);
        let predicate = match how {
            DropNa::Any => valid.gt_eq(n),
            DropNa::All => valid.gt_eq(1),
            DropNa::Thresh(t) => valid.gt_eq(i64::try_from(t).unwrap_or(i64::MAX)),
        };
        self.filter(predicate)
    }

    /// Adds or replaces columns computed from expressions, in order (a later one may read
    /// an earlier one), like pandas' `assign`. Types are checked here.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let f = ens.source()?.assign(&[("snr", col("psFlux") / col("psFluxErr"))])?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn assign(&self, items: &[(&str, Expr)]) -> Result<Frame> {
        if items.is_empty() {
            return Err(Error::InvalidArgument(
                "assign needs at least one column".into(),
            ));
        }
        let items = items
            .iter()
            .map(|(n, e)| (n.to_string(), e.clone()))
            .collect();
        self.push(PlanNode::Op(PartitionOp::Assign(items)))
    }

    /// The same frame with other columns playing the roles (e.g. magnitudes made by
    /// [`Frame::convert_flux_to_mag`] as the flux): functions added afterwards read them.
    /// Each role's column must exist with its canonical type.
    pub fn with_column_map(&self, columns: ColumnMap) -> Result<Frame> {
        let schema = self.schema()?;
        for role in [Role::Time, Role::Flux, Role::Err] {
            let name = columns.column(role);
            let field = schema
                .field_with_name(name)
                .map_err(|_| Error::unknown_column(name, format!("the {role} role"), &schema))?;
            if field.data_type() != &arrow::datatypes::DataType::Float64 {
                return Err(Error::ColumnType {
                    column: name.to_string(),
                    role: role.name().to_string(),
                    found: field.data_type().to_string(),
                    expected: "Float64".into(),
                    context: String::new(),
                });
            }
        }
        if columns.id != self.columns.id || columns.band != self.columns.band {
            return Err(Error::InvalidArgument(
                "with_column_map may change the time, flux and error columns, not id or band"
                    .into(),
            ));
        }
        Ok(Frame {
            columns,
            ..self.clone()
        })
    }

    /// Magnitudes from fluxes (TAPE's `convert_flux_to_mag`): adds `<flux>_mag` =
    /// -2.5 log10(flux) + zero point (`ZeroPoint::Mag`), or -2.5 log10(flux / zero point)
    /// (`ZeroPoint::Flux`), and `<flux>_mag_err` = 2.5 / ln(10) x err / flux. The zero point
    /// is a number or a column (`ZeroPoint::MagColumn`, `ZeroPoint::FluxColumn`).
    pub fn convert_flux_to_mag(&self, zero_point: ZeroPoint) -> Result<Frame> {
        use crate::plan::{col, lit};
        let flux = col(self.columns.flux.clone());
        let err = col(self.columns.err.clone());
        let mag = match zero_point {
            ZeroPoint::Mag(zp) => lit(-2.5) * flux.clone().log10() + zp,
            ZeroPoint::MagColumn(c) => lit(-2.5) * flux.clone().log10() + col(c),
            ZeroPoint::Flux(zp) => lit(-2.5) * (flux.clone() / zp).log10(),
            ZeroPoint::FluxColumn(c) => lit(-2.5) * (flux.clone() / col(c)).log10(),
        };
        let mag_err = lit(2.5 / std::f64::consts::LN_10) * err / flux;
        let name = format!("{}_mag", self.columns.flux);
        self.assign(&[(name.as_str(), mag), (&format!("{name}_err"), mag_err)])
    }

    /// Adds `output`: per row, the first of `columns` that is neither null nor NaN (TAPE's
    /// `coalesce`).
    pub fn coalesce(&self, columns: &[&str], output: &str) -> Result<Frame> {
        let items = columns.iter().map(|c| crate::plan::col(*c));
        self.assign(&[(output, Expr::coalesce(items))])
    }

    /// Keeps a reproducible `fraction` of the objects, each with all its rows (TAPE's
    /// `sample`): an object is kept when `uniform_hash(id, seed) < fraction`, so the choice
    /// depends only on the id and the seed, never on partitioning or threads.
    pub fn sample(&self, fraction: f64, seed: u64) -> Result<Frame> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::InvalidArgument(format!(
                "sample fraction must be within [0, 1], got {fraction}"
            )));
        }
        let key = Expr::Call(
            crate::plan::Func::UniformHash,
            vec![
                crate::plan::col(self.columns.id.clone()),
                crate::plan::lit(seed as i64),
            ],
        );
        // Straight to the plan: on a UInt64 source the hash of the key is as good a draw.
        self.push(PlanNode::Op(PartitionOp::Filter(key.lt(fraction))))
    }

    /// Orders each lightcurve's rows by time (TAPE's `sort_lightcurves`): the result lists
    /// objects by id and, within each, rows by time. The optimizer makes lightcurves whole
    /// first (re-cut or shuffle), as for `batch`.
    pub fn sort_lightcurves(&self) -> Result<Frame> {
        self.push(PlanNode::Op(PartitionOp::SortLightcurves(
            self.columns.clone(),
        )))
    }

    /// Bins each lightcurve in time (TAPE's `bin_sources`): one row per object, band and bin
    /// `[offset + k * window, offset + (k + 1) * window)` with columns `band`, `time` and
    /// `flux` (means), `err` (sqrt(sum sigma^2) / N) and `nbin` (the count).
    /// The binned frame's column map points at these columns (`band_codes` dropped: the
    /// bins carry names), so statistics and magnitudes apply to the bins directly.
    pub fn bin_sources(&self, window: f64, offset: f64) -> Result<Frame> {
        let binned = self.batch(Arc::new(crate::analysis::BinSources::new(window, offset)?))?;
        Ok(Frame {
            columns: ColumnMap::new(self.columns.id.clone(), "time", "flux", "err", "band"),
            ..binned
        })
    }

    /// Applies `function` to each band of every whole lightcurve separately: one column
    /// per band and output (`<column>_<band>`), NaN where an object has no observation in
    /// a band (see [`PerBand`](crate::analysis::PerBand); by name: `per_band(NAME)`).
    pub fn batch_per_band(&self, function: Arc<dyn LightcurveFunction>) -> Result<Frame> {
        self.batch(Arc::new(crate::analysis::PerBand::new(function)?))
    }

    /// Keeps only `columns`, in that order.
    pub fn select(&self, columns: &[&str]) -> Result<Frame> {
        self.push(PlanNode::Op(PartitionOp::Project(
            columns.iter().map(|s| s.to_string()).collect(),
        )))
    }

    /// Adds columns with a named per-partition function. It sees the id column as engine
    /// keys ([`IdKey`]): for a `UInt64` source, the ids with their sign bit flipped.
    pub fn map(&self, function: MapFunction) -> Result<Frame> {
        self.push(PlanNode::Op(PartitionOp::Map(function)))
    }

    /// Applies `function` to every lightcurve, each whole ([`BatchMode::Auto`]: the
    /// optimizer moves data only where lightcurves span partitions).
    pub fn batch(&self, function: Arc<dyn LightcurveFunction>) -> Result<Frame> {
        self.batch_with(function, BatchMode::Auto)
    }

    /// [`Frame::batch`] with the function registered under `name`.
    pub fn batch_named(&self, name: &str) -> Result<Frame> {
        self.batch(self.registry.get(name)?)
    }

    /// [`Frame::batch_named`] with an explicit mode.
    pub fn batch_named_with(&self, name: &str, mode: BatchMode) -> Result<Frame> {
        self.batch_with(self.registry.get(name)?, mode)
    }

    /// Applies `function` to every lightcurve; `mode` says how split lightcurves are
    /// treated (see [`BatchMode`]).
    pub fn batch_with(
        &self,
        function: Arc<dyn LightcurveFunction>,
        mode: BatchMode,
    ) -> Result<Frame> {
        self.push(PlanNode::Op(PartitionOp::Apply(
            self.apply_spec(function, mode),
        )))
    }

    /// Applies `function` once per object and combination of values of the source columns
    /// `on` (e.g. `band`, or a night or field id): rows `(id, on..., outputs...)`, the key
    /// columns with their types, ordered by id then key values (as Arrow's row format
    /// orders them: numbers by value, floats in IEEE total order, strings bytewise); a null
    /// key forms its own group, sorted last. Lightcurves are made whole first, as for
    /// [`Frame::batch`]. A [`Rows::Many`](crate::analysis::Rows::Many) function repeats the
    /// key values on each of its rows.
    ///
    /// A key that is not a source column but a column of the loaded object file (e.g. a
    /// class or a field) is joined to the sources first ([`Frame::join_objects`]): it is
    /// constant per object, so it adds a column to the result rather than splitting a
    /// lightcurve.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// // One Stetson J per object and band.
    /// let per_band = ens.source()?.batch_on_named("stetson_j", &["band"])?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn batch_on(&self, function: Arc<dyn LightcurveFunction>, on: &[&str]) -> Result<Frame> {
        self.batch_on_with(function, on, BatchMode::Auto)
    }

    /// [`Frame::batch_on`] with the function registered under `name`.
    pub fn batch_on_named(&self, name: &str, on: &[&str]) -> Result<Frame> {
        self.batch_on(self.registry.get(name)?, on)
    }

    /// [`Frame::batch_on_named`] with an explicit mode.
    pub fn batch_on_named_with(&self, name: &str, on: &[&str], mode: BatchMode) -> Result<Frame> {
        self.batch_on_with(self.registry.get(name)?, on, mode)
    }

    /// [`Frame::batch_on`] with an explicit mode (see [`BatchMode`]).
    pub fn batch_on_with(
        &self,
        function: Arc<dyn LightcurveFunction>,
        on: &[&str],
        mode: BatchMode,
    ) -> Result<Frame> {
        let schema = self.schema()?;
        let from_objects: Vec<&str> = match &self.objects {
            Some(table) => on
                .iter()
                .copied()
                .filter(|c| schema.field_with_name(c).is_err() && table.field(c).is_some())
                .collect(),
            None => Vec::new(),
        };
        let input = if from_objects.is_empty() {
            self.clone()
        } else {
            self.join_objects(&from_objects)?
        };
        let spec = ApplySpec {
            on: on.iter().map(|c| c.to_string()).collect(),
            ..input.apply_spec(function, mode)
        };
        input.push(PlanNode::Op(PartitionOp::Apply(spec)))
    }

    /// `function` over this frame's lightcurves: its roles, bands and bad-value policy.
    fn apply_spec(&self, function: Arc<dyn LightcurveFunction>, mode: BatchMode) -> ApplySpec {
        ApplySpec {
            function,
            mode,
            columns: self.columns.clone(),
            bands: self.bands.clone(),
            bad_values: self.bad_values,
            on: Vec::new(),
        }
    }

    /// The column roles of the source.
    pub fn column_map(&self) -> &ColumnMap {
        &self.columns
    }

    /// The source's bands, sorted.
    pub fn band_names(&self) -> &[String] {
        &self.bands
    }

    /// Output schema.
    pub fn schema(&self) -> Result<SchemaRef> {
        self.plan.schema(self.plan.root())
    }

    /// The structure function of every lightcurve and band: rows `(id, band, dt, sf2,
    /// sf2_err[, ...], n_pairs)` (see [`SfOptions`]). Options are checked here.
    pub fn structure_function(&self, options: &SfOptions) -> Result<Frame> {
        self.batch(Arc::new(StructureFunction::new(options.clone())?))
    }

    /// The structure function of all lightcurves' pairs pooled per band: rows `(band, dt,
    /// sf2, sf2_err[, ...], n_pairs)`, no id. The plan gathers the needed columns of the
    /// whole frame and runs `Aggregate[sf2 pooled, ...]` once on them.
    pub fn structure_function_pooled(&self, options: &SfOptions) -> Result<Frame> {
        structure_function::validate(options)?;
        let columns = self.columns.clone();
        let wanted = structure_function::pooled_input_columns(options, &columns);
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let schema = Arc::new(Schema::new(structure_function::output_fields(options)));
        // The source's bad-value policy applies to the value columns the pooling reads.
        let read: Vec<(String, Role)> = wanted
            .iter()
            .filter_map(|c| match columns.role_of(c) {
                Some(r @ (Role::Time | Role::Flux | Role::Err)) => Some((c.to_string(), r)),
                _ => None,
            })
            .collect();
        let (options, bands) = (options.clone(), self.bands.clone());
        let name = format!("sf2 combined, {}", options.estimator.name());
        let node = AggregateNode::new(name, schema, move |rows| {
            structure_function::pooled(rows, &options, &columns, &bands)
        })
        .with_bad_values(self.bad_values, read);
        self.select(&wanted)?.aggregate(node)
    }

    /// The function registry this frame resolves names in.
    pub fn registry(&self) -> &FunctionRegistry {
        &self.registry
    }

    /// The plan as written (without the final collect).
    pub fn logical_plan(&self) -> &LogicalPlan {
        &self.plan
    }

    /// Gathers the rows and aggregates them as a whole with `aggregate`; the result is a
    /// frame whose `compute()` returns the aggregate and whose `explain()` shows it.
    pub fn aggregate(&self, aggregate: AggregateNode) -> Result<Frame> {
        let plan = self.collected()?.push(PlanNode::Aggregate(aggregate))?;
        Ok(Frame {
            plan,
            ..self.clone()
        })
    }

    fn collected(&self) -> Result<LogicalPlan> {
        match self.plan.node(self.plan.root()) {
            PlanNode::Collect | PlanNode::Aggregate(_) => Ok(self.plan.clone()),
            _ => self.plan.push(PlanNode::Collect),
        }
    }

    /// The plan after the default optimizer.
    pub fn optimize(&self) -> Result<OptimizedPlan> {
        Optimizer::default().optimize(&self.collected()?)
    }

    /// Plan as written, optimized plan with the rules that fired and why, and physical
    /// stages. The text is stable for a given plan and source.
    pub fn explain(&self) -> Result<String> {
        self.explain_with(&Optimizer::default())
    }

    /// `explain()` with a chosen optimizer (e.g. `Optimizer::default().without("fuse_maps")`).
    pub fn explain_with(&self, optimizer: &Optimizer) -> Result<String> {
        let written = self.collected()?;
        let optimized = optimizer.optimize(&written)?;
        let physical = PhysicalPlan::from_logical(&optimized.plan)?;
        match &self.cluster {
            None => explain::explain_text(&written, &optimized, &physical),
            Some(c) => explain::explain_text_for_cluster(
                &written,
                &optimized,
                &physical,
                &explain::ClusterExplain {
                    address: c.address(),
                    registry: &self.registry,
                    stages: c.stages(self).map_err(|e| e.to_string()),
                },
            ),
        }
    }

    /// The optimized plan as Graphviz DOT.
    pub fn explain_dot(&self) -> Result<String> {
        explain::explain_dot(&self.optimize()?)
    }

    /// The physical plan (stages, their steps, exchanges) as Graphviz DOT.
    pub fn explain_dot_physical(&self) -> Result<String> {
        Ok(explain::explain_dot_physical(&self.physical()?.1))
    }

    /// Warnings the optimizer raised (e.g. per-partition results on split lightcurves).
    pub fn warnings(&self) -> Result<Vec<String>> {
        Ok(self.optimize()?.warnings())
    }

    /// The same frame, whose computes stop when `cancel` is cancelled or its deadline
    /// passes ([`Error::Cancelled`]); the executor stays usable for other computes.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// use std::time::Duration;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let frame = ens.source()?.batch_named("stetson_j")?;
    /// let limited = frame.with_cancellation(Cancellation::new().timeout(Duration::from_secs(60)));
    /// let sj = limited.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn with_cancellation(&self, cancel: Cancellation) -> Frame {
        Frame {
            cancel,
            ..self.clone()
        }
    }

    /// Runs the plan and returns the result, one batch in id order.
    pub fn compute(&self) -> Result<RecordBatch> {
        Ok(self.compute_with_metrics()?.0)
    }

    /// Runs the plan and returns the result with rows in/out and per-stage timings. The
    /// id column carries the source's ids: `UInt64` for a `UInt64` source, else `Int64`.
    ///
    /// Under a memory limit, a result larger than the limit fails with
    /// [`Error::MemoryLimit`]; [`Frame::compute_stream`] and [`Frame::write_parquet`] handle
    /// results of any size.
    ///
    /// On a cluster ([`Frame::cluster`]) the metrics hold the rows in and the page rows
    /// skipped (both known from the plan), the rows out and the wall time; the per-task
    /// counters stay with the cluster.
    pub fn compute_with_metrics(&self) -> Result<(RecordBatch, RunMetrics)> {
        if let Some(cluster) = &self.cluster {
            return self.compute_on(cluster);
        }
        let (batch, metrics, _) = self.run_analyzed()?;
        Ok((batch, metrics))
    }

    /// Runs the plan on `cluster`, reporting the compute to the executor's monitor (so the
    /// dashboard shows it) with its explain text.
    fn compute_on(&self, cluster: &Arc<dyn ClusterBackend>) -> Result<(RecordBatch, RunMetrics)> {
        let (optimized, physical) = self.physical()?;
        let compute = self.begin_compute(&optimized, &physical)?;
        let start = std::time::Instant::now();
        let run = cluster.compute(self);
        match &run {
            Ok(b) => compute.finish_ok(
                Some(format!(
                    "ran on the cluster {}: {} result rows, {:.3} s",
                    cluster.address(),
                    b.num_rows(),
                    start.elapsed().as_secs_f64()
                )),
                None,
            ),
            Err(e) => compute.finish_err(&e.to_string()),
        }
        let batch = run?;
        let (rows_in, page_rows_skipped) = physical.planned_scan_rows();
        let metrics = RunMetrics {
            rows_in,
            page_rows_skipped,
            rows_out: batch.num_rows() as u64,
            wall: start.elapsed(),
            ..RunMetrics::default()
        };
        Ok((batch, metrics))
    }

    /// Runs the plan and returns the optimized plan annotated per node with what the run
    /// did: rows in and out, lightcurves, time, bytes read and shuffled, row groups
    /// skipped, per-stage task durations, steals, peak memory (like DataFusion's
    /// `EXPLAIN ANALYZE`). Timings vary between runs; [`explain::mask_varying`] hides them.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// println!("{}", ens.batch_named("stetson_j")?.explain_analyze()?);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn explain_analyze(&self) -> Result<String> {
        Ok(self.explain_analyze_report()?.to_text())
    }

    /// [`Frame::explain_analyze`] as a structure; [`explain::AnalyzeReport::to_json`] gives
    /// the JSON form (schema [`explain::ANALYZE_SCHEMA_VERSION`]).
    ///
    /// Per-node figures come from this process's run loop, so a frame on a cluster is
    /// refused; `frame.local().explain_analyze()` analyses a local run of the same plan.
    pub fn explain_analyze_report(&self) -> Result<explain::AnalyzeReport> {
        if let Some(c) = &self.cluster {
            return Err(Error::InvalidArgument(format!(
                "explain_analyze reads per-task metrics of this process's run loop; this \
                 frame runs on the cluster {}: use frame.local().explain_analyze() to \
                 analyse a local run of the same plan, or explain() for the cluster's stages",
                c.address()
            )));
        }
        Ok(self.run_analyzed()?.2)
    }

    /// Runs the plan, reporting to the executor's monitor, and analyses the run.
    fn run_analyzed(&self) -> Result<(RecordBatch, RunMetrics, explain::AnalyzeReport)> {
        let (optimized, physical) = self.physical()?;
        let compute = self.begin_compute(&optimized, &physical)?;
        let run = physical
            .execute_monitored(&self.executor, &self.cancel, Some(&compute))
            .and_then(|(batch, metrics)| {
                let report = explain::AnalyzeReport::new(&optimized, &physical, &metrics)?;
                Ok((
                    self.id_key.restore(batch, &self.columns.id)?,
                    metrics,
                    report,
                ))
            });
        match &run {
            Ok((_, _, report)) => compute.finish_ok(Some(report.to_text()), Some(report.to_json())),
            Err(e) => compute.finish_err(&e.to_string()),
        }
        run
    }

    /// Registers a compute of `physical` with the executor's monitor.
    fn begin_compute(
        &self,
        optimized: &OptimizedPlan,
        physical: &PhysicalPlan,
    ) -> Result<Arc<ComputeHandle>> {
        let plan = &optimized.plan;
        // The top node below the final collect (`chain` runs from the scan up).
        let label = plan
            .chain()
            .into_iter()
            .rev()
            .map(|ix| plan.node(ix))
            .find(|n| !matches!(n, PlanNode::Collect))
            .map(|n| n.title())
            .unwrap_or_default();
        let explain = explain::explain_text(&self.collected()?, optimized, physical)?;
        let stages = (0..physical.stages.len())
            .map(|i| (physical.stage_label(i), physical.stages[i].tasks()))
            .collect();
        Ok(Arc::new(self.executor.monitor().begin(ComputePlan {
            label,
            explain,
            dot: explain::explain_dot(optimized)?,
            stages,
        })))
    }

    /// Runs the plan and returns the result as an iterator of batches (up to
    /// [`CHUNK_ROWS`](crate::physical::CHUNK_ROWS) rows each), in the same id order and with
    /// the same rows as [`Frame::compute`]. Only one chunk per partition is in memory at a
    /// time; under a memory limit the rest waits in spill files, removed when the stream
    /// is dropped.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let mut rows = 0;
    /// for batch in ens.source()?.batch_named("stetson_j")?.compute_stream()? {
    ///     rows += batch?.num_rows();
    /// }
    /// assert_eq!(rows, 15);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    ///
    /// On a cluster the result is gathered whole first (a cluster's result is per object,
    /// not per observation), then handed out in chunks.
    pub fn compute_stream(&self) -> Result<ResultStream> {
        if let Some(cluster) = &self.cluster {
            let (batch, mut metrics) = self.compute_on(cluster)?;
            metrics.rows_out = 0; // counts rows as the stream hands them out
            return Ok(ResultStream::from_batch(batch, metrics));
        }
        let (optimized, physical) = self.physical()?;
        let compute = self.begin_compute(&optimized, &physical)?;
        let run = physical.execute_stream_monitored(&self.executor, &self.cancel, Some(&compute));
        // The stages are done here; the stream only merges what they left.
        let stream = match run {
            Ok((stream, metrics)) => {
                let report = explain::AnalyzeReport::new(&optimized, &physical, &metrics)?;
                compute.finish_ok(Some(report.to_text()), Some(report.to_json()));
                stream
            }
            Err(e) => {
                compute.finish_err(&e.to_string());
                return Err(e);
            }
        };
        if self.id_key == IdKey::Int64 {
            return Ok(stream);
        }
        let (key, id) = (self.id_key, self.columns.id.clone());
        let schema = key
            .restore(RecordBatch::new_empty(stream.schema()), &id)?
            .schema();
        Ok(stream.map_batches(schema, Box::new(move |b| key.restore(b, &id))))
    }

    /// Runs the plan and writes the result to a Parquet file (zstd) as it streams, so the
    /// result never has to fit in memory. The file appears whole or not at all; an
    /// existing file is replaced or kept as `if_exists` says. Returns the rows written.
    pub fn write_parquet(
        &self,
        path: impl AsRef<std::path::Path>,
        if_exists: IfExists,
    ) -> Result<u64> {
        let mut stream = self.compute_stream()?;
        let schema = stream.schema();
        write_parquet_stream(path, &schema, &mut stream, if_exists)?;
        // The stream counts the rows it hands out.
        Ok(stream.metrics().rows_out)
    }

    /// [`Frame::write_parquet`] as CSV (see [`write_csv_stream`](crate::io::write_csv_stream)).
    pub fn write_csv(&self, path: impl AsRef<std::path::Path>, if_exists: IfExists) -> Result<u64> {
        let mut stream = self.compute_stream()?;
        let schema = stream.schema();
        write_csv_stream(path, &schema, &mut stream, if_exists)?;
        // The stream counts the rows it hands out.
        Ok(stream.metrics().rows_out)
    }

    /// The first `n` rows of the frame: rows of the first partitions that have any, in
    /// partition order and, inside a partition, as stored (TAPE's `head`). Eager; only as
    /// many partitions as needed are read, a pool's width at a time. A plan that must see
    /// every row first (a shuffle or an aggregate) is computed whole, then cut.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(8))?;
    /// let first = ens.source()?.head(5)?;
    /// assert_eq!(first.num_rows(), 5);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn head(&self, n: usize) -> Result<RecordBatch> {
        self.ends(n, false)
    }

    /// The last `n` rows (see [`Frame::head`]): rows of the last partitions that have any.
    pub fn tail(&self, n: usize) -> Result<RecordBatch> {
        self.ends(n, true)
    }

    fn ends(&self, n: usize, from_end: bool) -> Result<RecordBatch> {
        let (_, physical) = self.physical()?;
        let schema = self
            .id_key
            .restore(
                RecordBatch::new_empty(physical.schema.clone()),
                &self.columns.id,
            )?
            .schema();
        if n == 0 {
            return Ok(RecordBatch::new_empty(schema));
        }
        let whole = physical.stages.len() != 1 || physical.aggregate.is_some();
        let mut kept: Vec<RecordBatch> = Vec::new();
        if whole {
            kept.push(self.compute()?);
        } else {
            let mut rows = 0;
            self.each_partition(&physical, from_end, |batch| {
                rows += batch.num_rows();
                kept.push(batch);
                rows < n
            })?;
            if from_end {
                kept.reverse();
            }
            kept = kept
                .into_iter()
                .map(|b| self.id_key.restore(b, &self.columns.id))
                .collect::<Result<_>>()?;
        }
        let all = arrow::compute::concat_batches(&schema, &kept)
            .map_err(|e| Error::arrow("gathering head/tail rows", e))?;
        let take = n.min(all.num_rows());
        let start = if from_end { all.num_rows() - take } else { 0 };
        Ok(all.slice(start, take))
    }

    /// Runs a one-stage `physical` plan partition by partition (a pool's width at a time,
    /// in partition order or from the end), handing each output to `keep_going` until it
    /// returns false.
    pub(crate) fn each_partition(
        &self,
        physical: &PhysicalPlan,
        from_end: bool,
        mut keep_going: impl FnMut(RecordBatch) -> bool,
    ) -> Result<()> {
        let tasks = physical.stages.first().map_or(0, |s| s.tasks());
        let mut order: Vec<usize> = (0..tasks).collect();
        if from_end {
            order.reverse();
        }
        let width = self.executor.config().total_threads().max(1);
        for chunk in order.chunks(width) {
            for batch in physical.execute_partitions(&self.executor, &self.cancel, chunk)? {
                if !keep_going(batch) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Writes the frame as a directory of Parquet parts (`part-00000.parquet`, ...): one
    /// per partition for a plan without a shuffle or aggregate (each partition's rows as
    /// computed, a pool's width of partitions in memory at a time), else the id-ordered
    /// result cut every [`PART_ROWS`] rows. The parts appear together or not at all (see
    /// [`PartsWriter`](crate::io::PartsWriter)); an empty result writes one empty part, so
    /// the directory still carries the schema. Returns the files and the rows written.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// let (files, rows) = ens.source()?.query("psFlux > 0")?.to_parquet("/tmp/bright", IfExists::Replace)?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn to_parquet(
        &self,
        dir: impl AsRef<std::path::Path>,
        if_exists: IfExists,
    ) -> Result<(Vec<std::path::PathBuf>, u64)> {
        let mut parts = crate::io::PartsWriter::new(dir, if_exists)?;
        let (_, physical) = self.physical()?;
        let schema = self.schema_restored(&physical)?;
        if physical.stages.len() == 1 && physical.aggregate.is_none() {
            let mut failed = None;
            self.each_partition(&physical, false, |batch| {
                if batch.num_rows() == 0 {
                    return true;
                }
                let written = self
                    .id_key
                    .restore(batch, &self.columns.id)
                    .and_then(|b| parts.write_part(&schema, [Ok(b)]));
                match written {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            self.write_ordered_parts(&mut parts, &schema)?;
        }
        parts.finish_with_schema(&schema)
    }

    /// Writes the id-ordered result as parts of [`PART_ROWS`] rows.
    fn write_ordered_parts(
        &self,
        parts: &mut crate::io::PartsWriter,
        schema: &SchemaRef,
    ) -> Result<()> {
        let mut stream = self.compute_stream()?.peekable();
        while stream.peek().is_some() {
            let mut rows = 0;
            let chunk = std::iter::from_fn(|| {
                if rows >= PART_ROWS {
                    return None;
                }
                let next = stream.next()?;
                if let Ok(b) = &next {
                    rows += b.num_rows();
                }
                Some(next)
            });
            parts.write_part(schema, chunk)?;
        }
        Ok(())
    }

    /// Materialises the frame once and returns a frame that reads the materialised rows
    /// (TAPE's `persist`): later computes on it start from here instead of re-running the
    /// plan. The rows are written in id order to a scratch Parquet directory (removed with
    /// the last frame reading it), so lightcurves are whole there and later per-lightcurve
    /// functions need no shuffle; they are cut like the source was (its partitioning). The
    /// frame must still carry the five mapped columns (a source table, filtered, with
    /// columns assigned); a `batch` result is already small: compute it instead.
    pub fn persist(&self) -> Result<Frame> {
        let scan = self
            .plan
            .chain()
            .into_iter()
            .find_map(|ix| match self.plan.node(ix) {
                PlanNode::Scan(s) => Some(s.source.clone()),
                _ => None,
            })
            .ok_or_else(|| Error::PlanCheck {
                node: "persist".into(),
                message: "the plan reads no source".into(),
            })?;
        let (_, physical) = self.physical()?;
        let schema = self.schema_restored(&physical)?;
        let dir = Arc::new(crate::io::OwnedDir::create(
            self.executor.config().spill_dir.as_deref(),
        )?);
        let mut parts = crate::io::PartsWriter::new(dir.path(), IfExists::Refuse)?;
        self.write_ordered_parts(&mut parts, &schema)?;
        parts.finish_with_schema(&schema)?;
        let options = crate::io::SourceOptions {
            columns: self.columns.clone(),
            partitioning: scan.partitioning.clone(),
            bands: Some(self.bands.as_ref().clone()),
            bad_values: Some(self.bad_values),
        };
        let mut source = crate::io::ParquetSource::open(dir.path(), options, &self.executor)?;
        source.keep_alive = Some(dir);
        let source = Arc::new(source);
        Ok(Frame {
            plan: LogicalPlan::scan(crate::plan::ScanNode::new(source.clone())),
            id_key: source.id_key,
            ..self.clone()
        })
    }

    /// The result schema as users see it (a `UInt64` source's ids restored).
    fn schema_restored(&self, physical: &PhysicalPlan) -> Result<SchemaRef> {
        Ok(self
            .id_key
            .restore(
                RecordBatch::new_empty(physical.schema.clone()),
                &self.columns.id,
            )?
            .schema())
    }

    /// The rows of one object, by id, in time order (TAPE's `to_lightcurve`). Eager; the
    /// id filter is pushed into the scan, so row groups that cannot hold the id are skipped.
    pub fn to_lightcurve(&self, id: i64) -> Result<RecordBatch> {
        let rows = self
            .filter(crate::plan::col(&self.columns.id).eq(id))?
            .sort_lightcurves()?
            .compute()?;
        if rows.num_rows() == 0 {
            return Err(Error::InvalidArgument(format!(
                "no rows with {} = {id}",
                self.columns.id
            )));
        }
        Ok(rows)
    }

    pub(crate) fn physical(&self) -> Result<(OptimizedPlan, PhysicalPlan)> {
        let optimized = self.optimize()?;
        let physical = PhysicalPlan::from_logical(&optimized.plan)?;
        Ok((optimized, physical))
    }
}
