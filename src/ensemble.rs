//! The user-facing `Ensemble`: an executor, a source table, and the object table derived
//! from it, like TAPE's `Ensemble`.

use crate::analysis::{FunctionRegistry, LightcurveFunction};
use crate::cluster::{self, ClusterBackend};
use crate::dashboard::Dashboard;
use crate::error::{Error, Result};
use crate::executor::{ClusterProbe, Executor, ExecutorConfig, ExecutorInfo};
use crate::format::{human_bytes, thousands};
use crate::frame::Frame;
use crate::io::{
    id_keys, BadValues, ColumnMap, IdKey, IdRange, IfExists, ObjectTable, ParquetSource,
    Partitioning, SkipReason, SourceOptions, SourcePaths,
};
use crate::plan::{BatchMode, LogicalPlan, ScanNode};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Builds an [`Ensemble`] with a tailored or shared executor.
///
/// ```
/// use lsstseries::Ensemble;
/// let ens = Ensemble::builder().n_workers(3).threads_per_worker(2).build().unwrap();
/// assert_eq!(ens.executor_info().total_threads, 6);
/// ```
#[derive(Default)]
pub struct EnsembleBuilder {
    config: Option<ExecutorConfig>,
    executor: Option<Arc<Executor>>,
    registry: Option<FunctionRegistry>,
    bad_values: BadValues,
    dashboard: Option<String>,
    cluster: Option<ClusterChoice>,
}

/// Where [`EnsembleBuilder::cluster`] computes run.
enum ClusterChoice {
    Address(String),
    Backend(Arc<dyn ClusterBackend>),
}

impl fmt::Debug for EnsembleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnsembleBuilder")
            .field("config", &self.config)
            .field("executor", &self.executor.as_ref().map(|e| e.info()))
            .field("bad_values", &self.bad_values)
            .field("dashboard", &self.dashboard)
            .field(
                "cluster",
                &self.cluster.as_ref().map(|c| match c {
                    ClusterChoice::Address(a) => a.clone(),
                    ClusterChoice::Backend(b) => b.address().to_string(),
                }),
            )
            .finish()
    }
}

impl EnsembleBuilder {
    fn config(&mut self) -> &mut ExecutorConfig {
        self.config.get_or_insert_with(ExecutorConfig::default)
    }
    /// Number of workers of a new executor.
    pub fn n_workers(mut self, n: usize) -> Self {
        self.config().workers = n;
        self
    }
    /// Threads per worker of a new executor.
    pub fn threads_per_worker(mut self, n: usize) -> Self {
        self.config().threads_per_worker = n;
        self
    }
    /// Memory limit (bytes) of a new executor: covers every operator of a run; shuffle
    /// buckets and results spill to disk beyond it (see [`ExecutorConfig::memory_limit`]).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.config().memory_limit = Some(bytes);
        self
    }
    /// Directory for spill files of a new executor (default: the system's temporary
    /// directory).
    pub fn spill_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config().spill_dir = Some(dir.into());
        self
    }
    /// Use an existing executor (shared; the ensemble will never shut it down).
    pub fn executor(mut self, executor: Arc<Executor>) -> Self {
        self.executor = Some(executor);
        self
    }
    /// Use this function registry instead of the built-ins.
    pub fn registry(mut self, registry: FunctionRegistry) -> Self {
        self.registry = Some(registry);
        self
    }
    /// The bad-value policy of sources this ensemble opens (default [`BadValues::Drop`]);
    /// a source's own [`SourceOptions::bad_values`] wins over it.
    pub fn bad_values(mut self, policy: BadValues) -> Self {
        self.bad_values = policy;
        self
    }
    /// Serve the live dashboard on `addr` (`HOST:PORT`, e.g. `127.0.0.1:0` for a free port on
    /// this machine only) while the ensemble lives; its address shows in
    /// [`Ensemble::executor_info`] and [`Ensemble::dashboard_url`]. Off by default.
    pub fn dashboard(mut self, addr: impl Into<String>) -> Self {
        self.dashboard = Some(addr.into());
        self
    }
    /// Run every compute on the cluster whose scheduler is at `address` (e.g.
    /// `df://127.0.0.1:50050` for Apache DataFusion Ballista) instead of this process's
    /// threads, which then only plan, submit and gather. The backend for the address's
    /// scheme must be registered first (`lsstseries_ballista::install()` registers
    /// `df://`); see [`crate::cluster`]. Results equal a local run's, row for row.
    pub fn cluster(mut self, address: impl Into<String>) -> Self {
        self.cluster = Some(ClusterChoice::Address(address.into()));
        self
    }
    /// Run every compute on `backend` (a cluster connected by other means).
    pub fn cluster_backend(mut self, backend: Arc<dyn ClusterBackend>) -> Self {
        self.cluster = Some(ClusterChoice::Backend(backend));
        self
    }
    /// Starts the executor (unless one was given) and the dashboard (if asked for) and
    /// returns the ensemble. A dashboard address that cannot be bound is an
    /// [`Error::InvalidArgument`] naming it.
    pub fn build(self) -> Result<Ensemble> {
        if self.executor.is_some() && self.config.is_some() {
            return Err(Error::InvalidArgument(
                "give either an executor or its configuration, not both".into(),
            ));
        }
        let registry = Arc::new(
            self.registry
                .unwrap_or_else(FunctionRegistry::with_builtins),
        );
        // Connect first: an unknown scheme or a bad address fails before threads start.
        let cluster = match self.cluster {
            Some(ClusterChoice::Address(a)) => Some(cluster::connect(&a, &registry)?),
            Some(ClusterChoice::Backend(b)) => Some(b),
            None => None,
        };
        let (executor, owns) = match self.executor {
            Some(e) => (e, false),
            None => (Executor::new(self.config.unwrap_or_default())?, true),
        };
        // A shared executor's monitor is not this ensemble's to tell about a cluster.
        if let (Some(c), true) = (&cluster, owns) {
            let c = c.clone();
            executor
                .monitor()
                .set_cluster(Some(ClusterProbe(Arc::new(move || c.info()))));
        }
        let dashboard = match &self.dashboard {
            Some(addr) => {
                let d = Dashboard::start(addr, executor.monitor().clone())?;
                executor.monitor().set_dashboard(Some(d.url()));
                Some(d)
            }
            None => None,
        };
        Ok(Ensemble {
            dashboard,
            executor,
            owns_executor: owns,
            registry,
            source: None,
            objects: OnceLock::new(),
            object_file: None,
            bad_values: self.bad_values,
            cluster,
        })
    }
}

/// An object table and a source table of lightcurves, computed on an executor.
///
/// ```no_run
/// use lsstseries::{BatchMode, ColumnMap, Ensemble, Partitioning};
/// let mut ens = Ensemble::new()?;
/// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::size("5KB")?)?;
/// println!("{}", ens.info()?);
/// let sj = ens.batch_named("stetson_j")?.compute()?;
/// assert_eq!(sj.num_rows(), 15);
/// # Ok::<(), lsstseries::Error>(())
/// ```
pub struct Ensemble {
    executor: Arc<Executor>,
    owns_executor: bool,
    registry: Arc<FunctionRegistry>,
    source: Option<Arc<ParquetSource>>,
    objects: OnceLock<RecordBatch>,
    object_file: Option<Arc<ObjectTable>>,
    bad_values: BadValues,
    /// Serves the executor's monitor while the ensemble lives.
    dashboard: Option<Dashboard>,
    /// Where computes run, when not on `executor`.
    cluster: Option<Arc<dyn ClusterBackend>>,
}

impl fmt::Debug for Ensemble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ensemble")
            .field("executor", &self.executor.info())
            .field("owns_executor", &self.owns_executor)
            .field("source", &self.source.as_ref().map(|s| s.label()))
            .finish()
    }
}

impl Ensemble {
    /// An ensemble with a new executor sized to the machine.
    pub fn new() -> Result<Self> {
        EnsembleBuilder::default().build()
    }

    /// A builder for tailored or shared executors.
    pub fn builder() -> EnsembleBuilder {
        EnsembleBuilder::default()
    }

    /// An ensemble on a shared executor, which it will not shut down.
    pub fn with_executor(executor: Arc<Executor>) -> Self {
        Ensemble {
            executor,
            owns_executor: false,
            registry: Arc::new(FunctionRegistry::with_builtins()),
            source: None,
            objects: OnceLock::new(),
            object_file: None,
            bad_values: BadValues::default(),
            dashboard: None,
            cluster: None,
        }
    }

    /// The executor (clone the `Arc` to share it).
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    /// The live dashboard's address (`http://HOST:PORT/`), when
    /// [`EnsembleBuilder::dashboard`] started one.
    pub fn dashboard_url(&self) -> Option<String> {
        self.dashboard.as_ref().map(Dashboard::url)
    }

    /// Workers, threads, memory limit, status and tasks run so far; for an ensemble on a
    /// cluster also the scheduler and its executors (slots, status), asked now.
    pub fn executor_info(&self) -> ExecutorInfo {
        let mut info = self.executor.info();
        if !self.owns_executor {
            // An owned executor's monitor asks the cluster itself (once).
            info.cluster = self.cluster.as_ref().map(|c| c.info());
        }
        info
    }

    /// The cluster computes run on, if the ensemble was built with one.
    pub fn cluster(&self) -> Option<&Arc<dyn ClusterBackend>> {
        self.cluster.as_ref()
    }

    /// The function registry (names usable in `batch_named`).
    pub fn registry(&self) -> &FunctionRegistry {
        &self.registry
    }

    /// The function registry, to add named functions. Frames made earlier keep the
    /// registry they were made with.
    pub fn registry_mut(&mut self) -> &mut FunctionRegistry {
        Arc::make_mut(&mut self.registry)
    }

    /// Loads a source table from one or several paths: a Parquet file, a directory (read
    /// recursively; hidden entries and non-Parquet files are skipped and listed by
    /// [`Ensemble::info`]) or a glob pattern; several via [`SourcePaths`]. Reads footers
    /// (and the id and band columns once, when statistics cannot answer); decodes nothing
    /// else until `compute()`.
    pub fn from_parquet(
        &mut self,
        path: impl Into<SourcePaths>,
        columns: ColumnMap,
        partitioning: Partitioning,
    ) -> Result<&mut Self> {
        self.from_parquet_with(path, SourceOptions::new(columns, partitioning))
    }

    /// [`Ensemble::from_parquet`] with all options.
    pub fn from_parquet_with(
        &mut self,
        path: impl Into<SourcePaths>,
        mut options: SourceOptions,
    ) -> Result<&mut Self> {
        options.bad_values.get_or_insert(self.bad_values);
        let source = ParquetSource::open(path, options, &self.executor)?;
        self.source = Some(Arc::new(source));
        self.objects = OnceLock::new();
        self.object_file = None;
        Ok(self)
    }

    /// Re-cuts the loaded sources into new partitions (TAPE's `repartition` after load): the
    /// same files, column map, bands and bad-value policy; an object file stays joined.
    /// Frames made before keep their old cut.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::RowGroups)?;
    /// ens.repartition(Partitioning::Count(8))?;
    /// assert_eq!(ens.source_table()?.partitions.len(), 8);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn repartition(&mut self, partitioning: Partitioning) -> Result<&mut Self> {
        let old = self.source_table()?.clone();
        let options = SourceOptions {
            columns: old.columns.clone(),
            partitioning,
            bands: Some(old.bands.clone()),
            bad_values: Some(old.bad_values),
        };
        let mut source = ParquetSource::open(old.paths.clone(), options, &self.executor)?;
        source.keep_alive = old.keep_alive.clone();
        self.source = Some(Arc::new(source));
        Ok(self)
    }

    /// Loads sources held in memory as Arrow record batches (all of one schema), like
    /// [`Ensemble::from_parquet`] on a file: the same column checks, bands, bad-value policy
    /// and partitioning. The batches are written once to a scratch Parquet directory
    /// (zstd; under the executor's `spill_dir`, else the system's temporary directory),
    /// which is removed when the last frame reading them is dropped, so memory holds only
    /// the partitions in flight.
    ///
    /// ```no_run
    /// use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    /// use lsstseries::prelude::*;
    /// use std::sync::Arc;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_source_dict(
    ///     vec![
    ///         ("id", Arc::new(Int64Array::from(vec![1, 1, 2, 2])) as ArrayRef),
    ///         ("mjd", Arc::new(Float64Array::from(vec![1.0, 2.0, 1.0, 2.0]))),
    ///         ("flux", Arc::new(Float64Array::from(vec![10.0, 11.0, 5.0, 5.5]))),
    ///         ("flux_err", Arc::new(Float64Array::from(vec![0.1, 0.1, 0.2, 0.2]))),
    ///         ("band", Arc::new(StringArray::from(vec!["g", "g", "r", "r"]))),
    ///     ],
    ///     ColumnMap::generated(),
    ///     Partitioning::RowGroups,
    /// )?;
    /// assert_eq!(ens.batch_named("nobs")?.compute()?.num_rows(), 2);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn from_batches(
        &mut self,
        batches: &[RecordBatch],
        columns: ColumnMap,
        partitioning: Partitioning,
    ) -> Result<&mut Self> {
        let first = batches.first().ok_or_else(|| {
            Error::InvalidArgument("from_batches: no record batches given".into())
        })?;
        let schema = first.schema();
        if let Some((i, b)) = batches
            .iter()
            .enumerate()
            .find(|(_, b)| b.schema().fields() != schema.fields())
        {
            return Err(Error::InvalidArgument(format!(
                "from_batches: batch {i} has columns {:?}, batch 0 has {:?}",
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name(), f.data_type()))
                    .collect::<Vec<_>>(),
                schema
                    .fields()
                    .iter()
                    .map(|f| (f.name(), f.data_type()))
                    .collect::<Vec<_>>()
            )));
        }
        let dir = Arc::new(crate::io::OwnedDir::create(
            self.executor.config().spill_dir.as_deref(),
        )?);
        let mut parts = crate::io::PartsWriter::new(dir.path(), IfExists::Refuse)?;
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            parts.write_part(&schema, [Ok(b.clone())])?;
        }
        parts.finish_with_schema(&schema)?;
        let mut options = SourceOptions::new(columns, partitioning);
        options.bad_values = Some(self.bad_values);
        let mut source = ParquetSource::open(dir.path(), options, &self.executor)?;
        source.keep_alive = Some(dir);
        self.source = Some(Arc::new(source));
        self.objects = OnceLock::new();
        self.object_file = None;
        Ok(self)
    }

    /// Loads sources given as named columns (TAPE's `from_source_dict`); see
    /// [`Ensemble::from_batches`]. Columns must have equal lengths.
    pub fn from_source_dict(
        &mut self,
        columns: Vec<(&str, arrow::array::ArrayRef)>,
        map: ColumnMap,
        partitioning: Partitioning,
    ) -> Result<&mut Self> {
        let batch = RecordBatch::try_from_iter(columns)
            .map_err(|e| Error::InvalidArgument(format!("from_source_dict: {e}")))?;
        self.from_batches(&[batch], map, partitioning)
    }

    /// Reads an object table file (one row per object, id in the source's id column) and
    /// joins it to the sources: its numeric columns join the counts `query_objects` can
    /// filter on (e.g. `"redshift > 0.5 and nobs_total >= 20"`). Counts named like
    /// `nobs_g` are recomputed from the sources, so they follow source filters; an object
    /// the file lacks has NaN there (and fails every comparison). Load the sources first.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("sources.parquet", ColumnMap::tape(), Partitioning::RowGroups)?;
    /// ens.from_parquet_objects("objects.parquet")?;
    /// let far = ens.source()?.query_objects("redshift > 0.5")?.compute()?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn from_parquet_objects(
        &mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<&ObjectTable> {
        let source = self.source_table()?;
        let (id, key) = (source.columns.id.clone(), source.id_key);
        let table = Arc::new(ObjectTable::read(path, &id, key)?);
        self.objects = OnceLock::new();
        Ok(self.object_file.insert(table))
    }

    /// The loaded source.
    pub fn source_table(&self) -> Result<&Arc<ParquetSource>> {
        self.source.as_ref().ok_or_else(|| {
            Error::InvalidArgument("no source loaded: call from_parquet first".into())
        })
    }

    /// A lazy frame over the source table.
    pub fn source(&self) -> Result<Frame> {
        let source = self.source_table()?.clone();
        Ok(Frame::new(
            LogicalPlan::scan(ScanNode::new(source.clone())),
            self.executor.clone(),
            self.registry.clone(),
            source.columns.clone(),
            Arc::new(source.bands.clone()),
            source.id_key,
            source.bad_values,
        )
        .with_objects(self.object_file.clone())
        .with_cluster(self.cluster.clone()))
    }

    /// Applies `function` to every whole lightcurve of the source table
    /// ([`BatchMode::Auto`]); shorthand for `source()?.batch(function)`.
    pub fn batch(&self, function: Arc<dyn LightcurveFunction>) -> Result<Frame> {
        self.source()?.batch(function)
    }

    /// [`Ensemble::batch`] with an explicit mode (TAPE's `use_map`).
    pub fn batch_with(
        &self,
        function: Arc<dyn LightcurveFunction>,
        mode: BatchMode,
    ) -> Result<Frame> {
        self.source()?.batch_with(function, mode)
    }

    /// [`Ensemble::batch`] with a registered function name.
    pub fn batch_named(&self, name: &str) -> Result<Frame> {
        self.source()?.batch_named(name)
    }

    /// [`Ensemble::batch_named`] with an explicit mode.
    pub fn batch_named_with(&self, name: &str, mode: BatchMode) -> Result<Frame> {
        self.source()?.batch_named_with(name, mode)
    }

    /// [`Frame::batch_on`] over the sources: `function` per object and key values.
    pub fn batch_on(&self, function: Arc<dyn LightcurveFunction>, on: &[&str]) -> Result<Frame> {
        self.source()?.batch_on(function, on)
    }

    /// [`Frame::batch_on_named`] over the sources.
    pub fn batch_on_named(&self, name: &str, on: &[&str]) -> Result<Frame> {
        self.source()?.batch_on_named(name, on)
    }

    /// The object table: one row per object with `nobs_<band>` and `nobs_total`, derived
    /// from the sources, and the object file's other columns when one is loaded (computed
    /// once, then cached). [`Frame::object_table`] gives it for a filtered frame, lazily.
    pub fn object_table(&self) -> Result<RecordBatch> {
        if let Some(b) = self.objects.get() {
            return Ok(b.clone());
        }
        let b = self.source()?.object_table(false)?.compute()?;
        Ok(self.objects.get_or_init(|| b).clone())
    }

    /// Rows, id range, columns with non-null counts and types, partitions and memory of the
    /// object and source tables.
    pub fn info(&self) -> Result<EnsembleInfo> {
        let source = self.source_table()?;
        let objects = self.object_table()?;
        Ok(EnsembleInfo {
            object: TableInfo::of_batch(
                "Object table",
                &objects,
                &source.columns.id,
                source.id_key,
            ),
            source: TableInfo::of_source(source),
            files: source.files.len(),
            paths: source.label(),
            skipped: source.skipped.clone(),
        })
    }

    /// Whether the source's ids never decrease in file order (TAPE's `check_sorted`). Known
    /// from opening when the id column was read; otherwise the id column is read now, a
    /// pool's width of partitions at a time.
    pub fn check_sorted(&self) -> Result<bool> {
        let source = self.source_table()?;
        if let Some(sorted) = source.sorted {
            return Ok(sorted);
        }
        let mut last = i64::MIN;
        let mut sorted = true;
        self.each_id_partition(|ids| {
            for &id in ids {
                if id < last {
                    sorted = false;
                    return false;
                }
                last = id;
            }
            true
        })?;
        Ok(sorted)
    }

    /// Whether every lightcurve lies inside one partition of the source as it is cut
    /// (TAPE's `check_lightcurve_cohesion`; `false` means per-partition results would
    /// split lightcurves). Answered from the partitions' id ranges when they are disjoint;
    /// otherwise the id column is read, partition by partition, remembering one partition
    /// per id.
    pub fn check_lightcurve_cohesion(&self) -> Result<bool> {
        let source = self.source_table()?;
        let ranges: Option<Vec<_>> = source.partitions.iter().map(|p| p.id_range).collect();
        if let Some(mut ranges) = ranges {
            ranges.sort_by_key(|r| r.min);
            if ranges.windows(2).all(|w| w[0].max < w[1].min) {
                return Ok(true);
            }
        }
        let mut owner: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let mut partition = 0;
        let mut whole = true;
        self.each_id_partition(|ids| {
            for &id in ids {
                if *owner.entry(id).or_insert(partition) != partition {
                    whole = false;
                    return false;
                }
            }
            partition += 1;
            true
        })?;
        Ok(whole)
    }

    /// Hands the id keys of each source partition, in order, to `keep_going`.
    fn each_id_partition(&self, mut keep_going: impl FnMut(&[i64]) -> bool) -> Result<()> {
        let source = self.source_table()?;
        let frame = self.source()?.select(&[source.columns.id.as_str()])?;
        let (_, physical) = frame.physical()?;
        let mut mistyped = None;
        frame.each_partition(&physical, false, |batch| {
            match batch.column(0).as_primitive_opt::<Int64Type>() {
                Some(ids) => keep_going(ids.values()),
                None => {
                    mistyped = Some(batch.column(0).data_type().clone());
                    false
                }
            }
        })?;
        match mistyped {
            // Decoding makes every id an Int64 key; anything else is a bug, not a verdict.
            Some(t) => Err(Error::InvalidData(format!(
                "id column '{}' decoded as {t}, not the Int64 key",
                source.columns.id
            ))),
            None => Ok(()),
        }
    }

    /// TAPE's `find_day_gap_offset`: the middle of the longest run of hours of the day in
    /// which the source has no observation, as a fraction of a day (`-1.0` if every hour
    /// has one) — an offset for `bin_sources(1.0, offset)` that does not cut nights. Eager;
    /// reads the time column once.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// assert_eq!(ens.find_day_gap_offset()?, 0.7916666666666666);
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn find_day_gap_offset(&self) -> Result<f64> {
        let source = self.source_table()?;
        let frame = self.source()?.select(&[source.columns.time.as_str()])?;
        let (_, physical) = frame.physical()?;
        let mut counts = [0u64; 24];
        frame.each_partition(&physical, false, |batch| {
            if let Some(t) = batch
                .column(0)
                .as_primitive_opt::<arrow::datatypes::Float64Type>()
            {
                crate::analysis::day_gap::add_hours(t.iter().flatten(), &mut counts);
            }
            true
        })?;
        Ok(crate::analysis::day_gap::day_gap_offset(&counts))
    }

    /// Saves the ensemble to `dir` so that [`Ensemble::from_ensemble`] restores it: the
    /// source rows as Parquet parts under `dir/source/` (one per partition, decoded types:
    /// Int64 or UInt64 ids, Float64 values), the object file (copied byte for byte) under
    /// `dir/object/`, and `dir/ensemble.json` with the column map, bands, bad-value policy
    /// and partitioning. Bands stored as integer codes are saved as their names. Each piece appears whole; `ensemble.json` is written last, so a
    /// directory without it is not a saved ensemble. Returns the source rows written.
    pub fn save_ensemble(&self, dir: impl AsRef<Path>, if_exists: IfExists) -> Result<u64> {
        let dir = dir.as_ref();
        let source = self.source_table()?;
        let (_, rows) = self.source()?.to_parquet(dir.join("source"), if_exists)?;
        let object = match &self.object_file {
            Some(table) => {
                let target = dir.join("object").join("object.parquet");
                std::fs::create_dir_all(dir.join("object")).map_err(|e| Error::io(dir, e))?;
                let bytes = std::fs::read(&table.path).map_err(|e| Error::io(&table.path, e))?;
                crate::io::write_bytes_atomically(&target, &bytes, if_exists)?;
                Some("object/object.parquet")
            }
            None => None,
        };
        let (kind, value) = match source.partitioning {
            Partitioning::RowGroups => ("row_groups", None),
            Partitioning::Files => ("files", None),
            Partitioning::Bytes(n) => ("bytes", Some(n)),
            Partitioning::Count(n) => ("count", Some(n)),
            Partitioning::Rows(n) => ("rows", Some(n)),
        };
        let c = &source.columns;
        let meta = serde_json::json!({
            "format": "lsstseries-ensemble",
            "version": 1,
            "columns": {"id": c.id, "time": c.time, "flux": c.flux, "err": c.err, "band": c.band},
            "bands": source.bands,
            "bad_values": source.bad_values.name(),
            "partitioning": {"kind": kind, "value": value},
            "source": "source",
            "object": object,
            "rows": rows,
        });
        let text = serde_json::to_string_pretty(&meta)
            .map_err(|e| Error::InvalidData(format!("ensemble metadata: {e}")))?;
        crate::io::write_bytes_atomically(&dir.join("ensemble.json"), text.as_bytes(), if_exists)?;
        Ok(rows)
    }

    /// Loads an ensemble saved by [`Ensemble::save_ensemble`] into this one: the source
    /// with its column map, bands, bad-value policy and partitioning, and the object file.
    ///
    /// ```no_run
    /// use lsstseries::prelude::*;
    /// let mut ens = Ensemble::new()?;
    /// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(4))?;
    /// ens.save_ensemble("/tmp/saved", IfExists::Replace)?;
    /// let mut again = Ensemble::new()?;
    /// again.from_ensemble("/tmp/saved")?;
    /// # Ok::<(), lsstseries::Error>(())
    /// ```
    pub fn from_ensemble(&mut self, dir: impl AsRef<Path>) -> Result<&mut Self> {
        let dir = dir.as_ref();
        let meta_path = dir.join("ensemble.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let bad = |what: &str| Error::InvalidData(format!("{}: {what}", meta_path.display()));
        let meta: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
        if meta["format"] != "lsstseries-ensemble" || meta["version"] != 1 {
            return Err(bad("not a saved ensemble of format version 1"));
        }
        let text_of = |v: &serde_json::Value, key: &str| -> Result<String> {
            v[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("'{key}' missing or not a string")))
        };
        let c = &meta["columns"];
        let columns = ColumnMap::new(
            text_of(c, "id")?,
            text_of(c, "time")?,
            text_of(c, "flux")?,
            text_of(c, "err")?,
            text_of(c, "band")?,
        );
        let value = meta["partitioning"]["value"].as_u64().map(|v| v as usize);
        let need = |v: Option<usize>| v.ok_or_else(|| bad("partitioning value missing"));
        let partitioning = match meta["partitioning"]["kind"].as_str() {
            Some("row_groups") => Partitioning::RowGroups,
            Some("files") => Partitioning::Files,
            Some("bytes") => Partitioning::Bytes(need(value)?),
            Some("count") => Partitioning::Count(need(value)?),
            Some("rows") => Partitioning::Rows(need(value)?),
            _ => return Err(bad("unknown partitioning kind")),
        };
        let bands = meta["bands"].as_array().map(|a| {
            a.iter()
                .filter_map(|b| b.as_str().map(str::to_string))
                .collect()
        });
        let mut options = SourceOptions::new(columns, partitioning);
        options.bands = bands;
        options.bad_values = Some(text_of(&meta, "bad_values")?.parse()?);
        self.from_parquet_with(
            crate::io::SourcePaths::new([dir.join(text_of(&meta, "source")?)]),
            options,
        )?;
        if let Some(object) = meta["object"].as_str() {
            self.from_parquet_objects(dir.join(object))?;
        }
        Ok(self)
    }

    /// Closes the executor if this ensemble created it; a shared executor stays open.
    pub fn close(self) {
        if self.owns_executor {
            self.executor.shutdown();
        }
    }
}

/// One column of a [`TableInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Name.
    pub name: String,
    /// Non-null values, when known.
    pub non_null: Option<usize>,
    /// Arrow type.
    pub data_type: String,
}

/// What `info()` says about one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// "Object table" or "Source table".
    pub name: String,
    /// Rows.
    pub rows: usize,
    /// Smallest and largest id, when known, as engine keys (print them with `id_key`).
    pub id_range: Option<IdRange>,
    /// How the source's ids map onto keys.
    pub id_key: IdKey,
    /// Columns.
    pub columns: Vec<ColumnInfo>,
    /// Partitions.
    pub partitions: usize,
    /// How partitions were made.
    pub partitioning: String,
    /// Bytes in memory (decoded Arrow), exact for materialized tables, estimated for lazy.
    pub memory_bytes: usize,
    /// Whether `memory_bytes` is an estimate.
    pub memory_estimated: bool,
}

impl TableInfo {
    fn of_batch(name: &str, batch: &RecordBatch, id: &str, id_key: IdKey) -> Self {
        // A computed result carries the user's ids (UInt64 or Int64); ranges are keys.
        let id_range = batch
            .column_by_name(id)
            .and_then(|c| id_keys(c).ok())
            .and_then(|c| {
                let v = c.as_primitive_opt::<Int64Type>()?.values();
                Some(IdRange {
                    min: *v.iter().min()?,
                    max: *v.iter().max()?,
                })
            });
        TableInfo {
            name: name.into(),
            rows: batch.num_rows(),
            id_range,
            id_key,
            columns: batch
                .schema()
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| ColumnInfo {
                    name: f.name().clone(),
                    non_null: Some(c.len() - c.null_count()),
                    data_type: f.data_type().to_string(),
                })
                .collect(),
            partitions: 1,
            partitioning: "materialized".into(),
            memory_bytes: batch.get_array_memory_size(),
            memory_estimated: false,
        }
    }

    fn of_source(source: &ParquetSource) -> Self {
        let ranges: Option<Vec<IdRange>> = source.partitions.iter().map(|p| p.id_range).collect();
        let id_range = ranges.and_then(|r| {
            Some(IdRange {
                min: r.iter().map(|x| x.min).min()?,
                max: r.iter().map(|x| x.max).max()?,
            })
        });
        let columns = source
            .schema
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                non_null: source.non_null_count(f.name()),
                data_type: f.data_type().to_string(),
            })
            .collect();
        TableInfo {
            name: "Source table".into(),
            rows: source.rows,
            id_range,
            id_key: source.id_key,
            columns,
            partitions: source.partitions.len(),
            partitioning: source.partitioning_label(),
            memory_bytes: (source.rows as f64 * source.bytes_per_row) as usize,
            memory_estimated: true,
        }
    }
}

impl fmt::Display for TableInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = match self.id_range {
            Some(r) => format!(
                "ids {}..{}",
                self.id_key.display(r.min),
                self.id_key.display(r.max)
            ),
            None => "ids unknown".into(),
        };
        writeln!(
            f,
            "{}: {} rows, {}, {} partition(s) ({}), {}{} in memory",
            self.name,
            thousands(self.rows),
            ids,
            self.partitions,
            self.partitioning,
            human_bytes(self.memory_bytes),
            if self.memory_estimated {
                " (estimated, decoded)"
            } else {
                ""
            }
        )?;
        let w = self
            .columns
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(f, "   #  {:<w$}  {:>9}  type", "column", "non-null")?;
        for (i, c) in self.columns.iter().enumerate() {
            let nn = c.non_null.map(thousands).unwrap_or_else(|| "?".into());
            writeln!(f, "  {i:>2}  {:<w$}  {nn:>9}  {}", c.name, c.data_type)?;
        }
        Ok(())
    }
}

/// What [`Ensemble::info`] returns; `Display` prints both tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsembleInfo {
    /// The object table.
    pub object: TableInfo,
    /// The source table.
    pub source: TableInfo,
    /// Parquet files read for the source table.
    pub files: usize,
    /// The source paths as given (the one path, or the first and how many more).
    pub paths: String,
    /// Entries under the source paths that were not read, and why.
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

impl fmt::Display for EnsembleInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.object, self.source)?;
        writeln!(
            f,
            "Files: {} Parquet file(s) from {}; {} entr(ies) skipped",
            self.files,
            self.paths,
            self.skipped.len()
        )?;
        for (path, why) in &self.skipped {
            writeln!(f, "  skipped {}: {why}", path.display())?;
        }
        Ok(())
    }
}
