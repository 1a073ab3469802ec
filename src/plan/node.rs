//! The closed set of plan operations.

use super::expr::{Expr, ExprType, Predicate};
use crate::analysis::LightcurveFunction;
use crate::error::{Error, Result};
use crate::io::{
    screen_batch, BadValueCounts, BadValues, ColumnMap, ObjectTable, PageSkip, ParquetSource,
    PartitionSlice, Role, RowGroupSkip,
};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::fmt;
use std::sync::Arc;

/// How `batch` treats lightcurves that span partitions (TAPE's `use_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchMode {
    /// The optimizer decides: no data movement when partitions provably hold whole
    /// lightcurves, a boundary re-cut for id-sorted sources, a shuffle otherwise.
    #[default]
    Auto,
    /// Each partition on its own, no data movement (`use_map=True`). Split lightcurves give
    /// one result per piece.
    PerPartition,
    /// Always regroup by id with a shuffle (`use_map=False`).
    Grouped,
}

impl fmt::Display for BatchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment flags apply (`{mode:<13}`).
        f.pad(match self {
            BatchMode::Auto => "auto",
            BatchMode::PerPartition => "per-partition",
            BatchMode::Grouped => "grouped",
        })
    }
}

impl std::str::FromStr for BatchMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(BatchMode::Auto),
            "per-partition" | "per_partition" | "map" => Ok(BatchMode::PerPartition),
            "grouped" | "shuffle" => Ok(BatchMode::Grouped),
            other => Err(Error::InvalidArgument(format!(
                "mode '{other}': expected auto, per-partition or grouped"
            ))),
        }
    }
}

type MapBody = dyn Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync;

/// A named per-partition transformation that keeps the input columns and may add columns
/// (and drop rows).
#[derive(Clone)]
pub struct MapFunction {
    /// Name shown by `explain()`.
    pub name: String,
    /// Columns appended to the input's.
    pub added: Vec<Field>,
    /// Columns the body reads, if declared; `None` means any (then the scan decodes all).
    pub reads: Option<Vec<String>>,
    body: Arc<MapBody>,
}

impl MapFunction {
    /// Wraps a closure. Its output must be the input columns followed by `added`.
    pub fn new(
        name: impl Into<String>,
        added: Vec<Field>,
        body: impl Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync + 'static,
    ) -> Self {
        MapFunction {
            name: name.into(),
            added,
            reads: None,
            body: Arc::new(body),
        }
    }

    /// Declares the only input columns the body reads, so the scan can skip the others.
    /// The body still receives (and must return) all input columns that reach it.
    pub fn reading(mut self, columns: &[&str]) -> Self {
        self.reads = Some(columns.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Runs the closure and checks its output against the declared schema.
    pub fn call(&self, input: &RecordBatch, expected: &SchemaRef) -> Result<RecordBatch> {
        let out = (self.body)(input)?;
        let names = |s: &Schema| -> Vec<(String, DataType)> {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect()
        };
        if names(&out.schema()) != names(expected) {
            return Err(Error::Function {
                function: self.name.clone(),
                message: format!(
                    "returned columns {:?}, declared {:?}",
                    names(&out.schema()),
                    names(expected)
                ),
            });
        }
        Ok(out)
    }
}

impl fmt::Debug for MapFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MapFunction({})", self.name)
    }
}

/// A per-lightcurve function applied to every object.
#[derive(Clone, Debug)]
pub struct ApplySpec {
    /// The function.
    pub function: Arc<dyn LightcurveFunction>,
    /// How split lightcurves are treated.
    pub mode: BatchMode,
    /// Column roles of the input.
    pub columns: ColumnMap,
    /// The source's bands.
    pub bands: Arc<Vec<String>>,
    /// What the function sees of bad values in the columns it reads (the source's policy).
    pub bad_values: BadValues,
    /// Key columns besides the id (`batch_on`): the function runs once per id and
    /// combination of their values, and the output carries them after the id.
    pub on: Vec<String>,
}

impl ApplySpec {
    /// Every input column the function reads: the id, its roles, its columns read by name
    /// and the key columns.
    pub fn reads(&self) -> Vec<String> {
        let mut cols = vec![self.columns.id.clone()];
        let named = self
            .function
            .required()
            .iter()
            .map(|r| self.columns.column(*r).to_string())
            .chain(self.function.extra_columns().iter().cloned())
            .chain(self.on.iter().cloned());
        for c in named {
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        cols
    }

    /// The function's name, with its key columns and the columns it reads by name when
    /// it has them (`mean on [night] reading [airmass]`), as `explain()` shows it.
    pub fn label(&self) -> String {
        let mut label = self.function.name().to_string();
        if !self.on.is_empty() {
            label.push_str(&format!(" on [{}]", self.on.join(", ")));
        }
        let extra = self.function.extra_columns();
        if !extra.is_empty() {
            label.push_str(&format!(" reading [{}]", extra.join(", ")));
        }
        label
    }
}

/// An operation that runs on each partition independently (fusable).
#[derive(Clone, Debug)]
pub enum PartitionOp {
    /// Keep rows matching a predicate.
    Filter(Predicate),
    /// Keep only these columns.
    Project(Vec<String>),
    /// A named batch transformation.
    Map(MapFunction),
    /// A per-lightcurve function; requires whole lightcurves unless per-partition.
    Apply(ApplySpec),
    /// Adds (or replaces) columns computed from expressions, in order: a later one may read
    /// an earlier one.
    Assign(Vec<(String, Expr)>),
    /// Orders each lightcurve's rows by time (stable), lightcurves by id; needs whole
    /// lightcurves so the result's order holds across partitions.
    SortLightcurves(ColumnMap),
    /// Keeps the rows of objects whose per-object values (a per-lightcurve function's
    /// output) satisfy a predicate: a semi-join of the sources with a filtered object
    /// table, local to each partition once lightcurves are whole.
    KeepObjects(KeepObjectsSpec),
    /// Adds object-file columns to each row, looked up by its id (null for an object the
    /// file lacks): a row-local join with the small, in-memory object table.
    JoinObjects(JoinObjectsSpec),
}

/// What [`PartitionOp::JoinObjects`] adds to each row.
#[derive(Clone)]
pub struct JoinObjectsSpec {
    /// The object file, read whole.
    pub table: Arc<ObjectTable>,
    /// The input's id column.
    pub id: String,
    /// The object-file columns added, in this order.
    pub columns: Vec<String>,
}

impl fmt::Debug for JoinObjectsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JoinObjects({} from {})",
            self.columns.join(", "),
            self.table.path.display()
        )
    }
}

impl JoinObjectsSpec {
    /// The object file's name, as `explain()` shows it.
    pub fn file_name(&self) -> String {
        self.table
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.table.path.display().to_string())
    }
}

/// What [`PartitionOp::KeepObjects`] computes per object and keeps.
#[derive(Clone, Debug)]
pub struct KeepObjectsSpec {
    /// The per-object values (its mode says how lightcurves must be partitioned).
    pub apply: ApplySpec,
    /// The condition on those values (columns of the function's output).
    pub predicate: Predicate,
}

impl PartitionOp {
    /// Short label for `explain()`.
    pub fn label(&self) -> String {
        match self {
            PartitionOp::Filter(p) => format!("filter({p})"),
            PartitionOp::Project(c) => format!("project({})", c.join(", ")),
            PartitionOp::Map(m) => m.name.clone(),
            PartitionOp::Apply(a) => a.label(),
            PartitionOp::KeepObjects(k) => {
                format!("keep objects where {} ({})", k.predicate, k.apply.label())
            }
            PartitionOp::Assign(a) => format!("assign({})", assignments(a)),
            PartitionOp::SortLightcurves(c) => format!("sort by {}, {}", c.id, c.time),
            PartitionOp::JoinObjects(j) => {
                format!(
                    "join objects({} from {})",
                    j.columns.join(", "),
                    j.file_name()
                )
            }
        }
    }

    /// What the op needs of its input's partitioning: a per-lightcurve function needs
    /// whole lightcurves (or, in mode `grouped`, a regroup by id); the rest need nothing.
    pub fn requirement(&self) -> InputRequirement {
        let apply = match self {
            PartitionOp::Apply(a) => Some(a),
            PartitionOp::KeepObjects(k) => Some(&k.apply),
            _ => None,
        };
        if matches!(self, PartitionOp::SortLightcurves(_)) {
            return InputRequirement::WholeLightcurves;
        }
        match apply {
            Some(a) => match a.mode {
                BatchMode::Auto => InputRequirement::WholeLightcurves,
                BatchMode::Grouped => InputRequirement::HashById,
                BatchMode::PerPartition => InputRequirement::PiecesAccepted,
            },
            None => InputRequirement::Any,
        }
    }

    /// Output schema given the input's; fails on unknown columns.
    pub fn output_schema(&self, input: &SchemaRef) -> Result<SchemaRef> {
        match self {
            PartitionOp::KeepObjects(k) => {
                let per_object = PartitionOp::Apply(k.apply.clone()).output_schema(input)?;
                k.predicate.check(&per_object)?;
                Ok(input.clone())
            }
            PartitionOp::SortLightcurves(c) => {
                for name in [&c.id, &c.time] {
                    input
                        .field_with_name(name)
                        .map_err(|_| Error::unknown_column(name.clone(), self.label(), input))?;
                }
                Ok(input.clone())
            }
            PartitionOp::Assign(items) => {
                let mut fields: Vec<Field> = input.fields().iter().map(|f| (**f).clone()).collect();
                for (name, e) in items {
                    let dt = match e.data_type(&Schema::new(fields.clone()))? {
                        ExprType::Int => DataType::Int64,
                        ExprType::Float => DataType::Float64,
                        ExprType::Bool => DataType::Boolean,
                        ExprType::Str => DataType::Utf8,
                    };
                    let field = Field::new(name, dt, true);
                    match fields.iter().position(|f| f.name() == name) {
                        Some(i) => fields[i] = field,
                        None => fields.push(field),
                    }
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            PartitionOp::Filter(p) => {
                p.check(input)?;
                Ok(input.clone())
            }
            PartitionOp::JoinObjects(j) => {
                input
                    .field_with_name(&j.id)
                    .map_err(|_| Error::unknown_column(j.id.clone(), self.label(), input))?;
                let mut fields: Vec<Field> = input.fields().iter().map(|f| (**f).clone()).collect();
                for name in &j.columns {
                    let field = j.table.field(name).ok_or_else(|| {
                        Error::unknown_column(
                            name.clone(),
                            format!("object table {}", j.table.path.display()),
                            j.table.batch().schema_ref(),
                        )
                    })?;
                    if name == &j.table.id || input.field_with_name(name).is_ok() {
                        return Err(Error::InvalidArgument(format!(
                            "{}: column '{name}' is already in the input; select it away first",
                            self.label()
                        )));
                    }
                    fields.push(field.clone().with_nullable(true));
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            PartitionOp::Project(cols) => {
                let mut fields = Vec::with_capacity(cols.len());
                for c in cols {
                    let f = input
                        .field_with_name(c)
                        .map_err(|_| Error::unknown_column(c.clone(), self.label(), input))?;
                    fields.push(f.clone());
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            PartitionOp::Map(m) => {
                for c in m.reads.iter().flatten() {
                    if input.field_with_name(c).is_err() {
                        return Err(Error::unknown_column(
                            c.clone(),
                            format!("map {}", m.name),
                            input,
                        ));
                    }
                }
                let mut fields: Vec<Field> = input.fields().iter().map(|f| (**f).clone()).collect();
                for a in &m.added {
                    if input.field_with_name(a.name()).is_ok() {
                        return Err(Error::Function {
                            function: m.name.clone(),
                            message: format!("adds column '{}' which already exists", a.name()),
                        });
                    }
                    fields.push(a.clone());
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            PartitionOp::Apply(a) => {
                let mut needed = vec![Role::Id];
                needed.extend_from_slice(a.function.required());
                for role in needed {
                    let name = a.columns.column(role);
                    let f = input.field_with_name(name).map_err(|_| {
                        Error::unknown_column(
                            name.to_string(),
                            format!("{} (needs the {role} column)", self.label()),
                            input,
                        )
                    })?;
                    let ok = match role {
                        Role::Id => f.data_type() == &DataType::Int64,
                        Role::Band => {
                            f.data_type() == &DataType::Utf8
                                || f.data_type() == &crate::io::band_type()
                        }
                        _ => f.data_type() == &DataType::Float64,
                    };
                    if !ok {
                        return Err(Error::ColumnType {
                            column: name.to_string(),
                            role: role.name().to_string(),
                            found: f.data_type().to_string(),
                            expected:
                                "the scan's canonical type (Int64 id, Float64 values, dictionary or Utf8 band)"
                                    .into(),
                            context: format!(" in input of {}", self.label()),
                        });
                    }
                }
                for name in a.function.extra_columns() {
                    let f = input.field_with_name(name).map_err(|_| {
                        Error::unknown_column(
                            name.clone(),
                            format!("{} (reads it by name)", self.label()),
                            input,
                        )
                    })?;
                    crate::lightcurve::check_numeric(
                        name,
                        f.data_type(),
                        format!(" in input of {}", self.label()),
                    )?;
                }
                let mut keys = Vec::with_capacity(a.on.len());
                for name in &a.on {
                    let f = input.field_with_name(name).map_err(|_| {
                        Error::unknown_column(
                            name.clone(),
                            format!("{} (groups by it)", self.label()),
                            input,
                        )
                    })?;
                    if name == &a.columns.id {
                        return Err(Error::InvalidArgument(format!(
                            "key column '{name}' is the id column, a key already"
                        )));
                    }
                    if a.on.iter().filter(|k| *k == name).count() > 1 {
                        return Err(Error::InvalidArgument(format!(
                            "key column '{name}' given twice"
                        )));
                    }
                    keys.push(Field::new(name, key_type(f.data_type()), true));
                }
                let out = a.function.output_fields(&a.bands);
                crate::analysis::check_fields(a.function.as_ref(), &out)?;
                let mut fields = vec![Field::new(&a.columns.id, DataType::Int64, false)];
                fields.extend(keys);
                fields.extend(out);
                // Two columns of one name (a band named `total` beside `nobs_total`, an id
                // column named like an output) would make readers pick one silently.
                let mut seen = std::collections::HashSet::with_capacity(fields.len());
                for f in &fields {
                    if !seen.insert(f.name().as_str()) {
                        return Err(Error::Function {
                            function: a.function.name().to_string(),
                            message: format!(
                                "output column '{}' would appear twice (id column '{}', bands {:?}); \
                                 output column names must be unique: rename the band or the column",
                                f.name(),
                                a.columns.id,
                                a.bands
                            ),
                        });
                    }
                }
                Ok(Arc::new(Schema::new(fields)))
            }
        }
    }
}

/// What a node needs of the partitioning of its input, declared by the node (like
/// DataFusion's `required_input_distribution`). The `enforce_cohesion` rule meets it;
/// physical planning refuses a plan where it is not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputRequirement {
    /// Any partitioning.
    Any,
    /// A per-lightcurve function the user chose to run on each partition as it is
    /// (`BatchMode::PerPartition`): pieces of split lightcurves are accepted, with a warning.
    PiecesAccepted,
    /// Every lightcurve whole inside one partition, however that is achieved.
    WholeLightcurves,
    /// Rows regrouped by hash of the id (`BatchMode::Grouped`: the user asked for it).
    HashById,
}

impl InputRequirement {
    /// How `explain()` shows the requirement, if it is one.
    pub fn label(self) -> Option<&'static str> {
        match self {
            InputRequirement::Any | InputRequirement::PiecesAccepted => None,
            InputRequirement::WholeLightcurves | InputRequirement::HashById => {
                Some("whole lightcurves")
            }
        }
    }
}

/// Reading a Parquet source.
#[derive(Clone, Debug)]
pub struct ScanNode {
    /// The opened source.
    pub source: Arc<ParquetSource>,
    /// Columns decoded, in schema order.
    pub projection: Vec<String>,
    /// Use the source's lightcurve-aligned cuts instead of the requested ones.
    pub aligned: bool,
    /// Filters whose row groups the scan may leave out (their statistics prove no row
    /// passes), with the flags computed from them; the filters themselves still run.
    pub pushed: Option<PushedFilter>,
    /// Columns functions above read by name, whose values decoding refuses when bad under
    /// [`BadValues::Reject`] (as it does time, flux and error); set by physical planning.
    pub checked: Vec<String>,
}

/// Filters pushed into a scan, and the row groups their statistics rule out.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedFilter {
    /// The filters (all must hold).
    pub filters: Vec<Expr>,
    /// Row groups left out.
    pub skip: Arc<RowGroupSkip>,
    /// Rows of the other row groups left out by the page index.
    pub pages: Arc<PageSkip>,
}

impl ScanNode {
    /// A scan of every column of `source`, with the requested partition cuts.
    pub fn new(source: Arc<ParquetSource>) -> Self {
        let projection = source
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        ScanNode {
            source,
            projection,
            aligned: false,
            pushed: None,
            checked: Vec::new(),
        }
    }

    /// Row groups the scan leaves out.
    pub fn skip(&self) -> Option<&RowGroupSkip> {
        self.pushed.as_ref().map(|p| p.skip.as_ref())
    }

    /// Rows of the remaining row groups the scan leaves out by the page index.
    pub fn page_skip(&self) -> Option<&PageSkip> {
        self.pushed.as_ref().map(|p| p.pages.as_ref())
    }

    /// The partitions this scan produces.
    pub fn slices(&self) -> &[PartitionSlice] {
        match (&self.source.aligned, self.aligned) {
            (Some(a), true) => a,
            _ => &self.source.partitions,
        }
    }

    /// Output schema (projected canonical schema).
    pub fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .source
            .schema
            .fields()
            .iter()
            .filter(|f| self.projection.contains(f.name()))
            .map(|f| (**f).clone())
            .collect();
        Arc::new(Schema::new(fields))
    }
}

/// Regrouping rows by hash of the object id.
#[derive(Clone, Debug)]
pub struct ShuffleNode {
    /// Output partitions.
    pub partitions: usize,
    /// Id column.
    pub id_column: String,
    /// Why it is there (shown by `explain()`).
    pub reason: String,
}

type AggregateBody = dyn Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync;

/// A named whole-result aggregation, run once on the collected rows (e.g. the combined
/// structure function, which pools every lightcurve's pairs).
#[derive(Clone)]
pub struct AggregateNode {
    /// Name shown by `explain()`.
    pub name: String,
    /// Declared output schema.
    pub schema: SchemaRef,
    body: Arc<AggregateBody>,
    /// The bad-value policy and the value columns (name, role) the body reads.
    screen: Option<(BadValues, Vec<(String, Role)>)>,
}

impl AggregateNode {
    /// Wraps a closure that turns the collected rows into the declared schema.
    pub fn new(
        name: impl Into<String>,
        schema: SchemaRef,
        body: impl Fn(&RecordBatch) -> Result<RecordBatch> + Send + Sync + 'static,
    ) -> Self {
        AggregateNode {
            name: name.into(),
            schema,
            body: Arc::new(body),
            screen: None,
        }
    }

    /// Applies `policy` to the value columns `read` (name, role) before the body runs:
    /// under [`BadValues::Drop`] the body never sees a row with a bad value in them, and
    /// [`AggregateNode::call_counted`] counts it.
    pub fn with_bad_values(mut self, policy: BadValues, read: Vec<(String, Role)>) -> Self {
        self.screen = Some((policy, read));
        self
    }

    /// [`AggregateNode::call`], also returning the rows left out for bad values.
    pub fn call_counted(&self, input: &RecordBatch) -> Result<(RecordBatch, BadValueCounts)> {
        match &self.screen {
            None => Ok((self.call_body(input)?, BadValueCounts::default())),
            Some((policy, read)) => {
                let (rows, counts) = screen_batch(input, read, *policy)?;
                Ok((self.call_body(&rows)?, counts))
            }
        }
    }

    /// Runs the aggregation (after its bad-value policy, if any) and checks its output
    /// against the declared schema.
    pub fn call(&self, input: &RecordBatch) -> Result<RecordBatch> {
        Ok(self.call_counted(input)?.0)
    }

    fn call_body(&self, input: &RecordBatch) -> Result<RecordBatch> {
        let out = (self.body)(input)?;
        if out.schema().fields() != self.schema.fields() {
            return Err(Error::Function {
                function: self.name.clone(),
                message: format!(
                    "returned schema {:?}, declared {:?}",
                    out.schema(),
                    self.schema
                ),
            });
        }
        Ok(out)
    }
}

impl fmt::Debug for AggregateNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AggregateNode({})", self.name)
    }
}

/// A node of the logical plan.
#[derive(Clone, Debug)]
pub enum PlanNode {
    /// Read a Parquet source.
    Scan(ScanNode),
    /// One per-partition operation.
    Op(PartitionOp),
    /// Several per-partition operations fused into one task (outermost last).
    Fused(Vec<PartitionOp>),
    /// Regroup rows by id.
    Shuffle(ShuffleNode),
    /// Gather all partitions into one id-ordered result.
    Collect,
    /// Aggregate the collected result as a whole (only on top of `Collect`).
    Aggregate(AggregateNode),
}

impl PlanNode {
    /// What the node needs of its input: an operation's own requirement, the strongest of
    /// a fused chain's (the operations before it keep lightcurves where they are).
    pub fn requirement(&self) -> InputRequirement {
        match self {
            PlanNode::Op(op) => op.requirement(),
            PlanNode::Fused(ops) => ops
                .iter()
                .map(PartitionOp::requirement)
                .max()
                .unwrap_or(InputRequirement::Any),
            PlanNode::Scan(_)
            | PlanNode::Shuffle(_)
            | PlanNode::Collect
            | PlanNode::Aggregate(_) => InputRequirement::Any,
        }
    }

    /// A short name for messages: `Apply[f]` for a per-lightcurve function, else the title.
    pub fn short_name(&self) -> String {
        match self {
            PlanNode::Op(PartitionOp::Apply(a)) => format!("Apply[{}]", a.label()),
            other => other.title(),
        }
    }

    /// Operator name with its label, as `explain()` prints it.
    pub fn title(&self) -> String {
        match self {
            PlanNode::Scan(s) => format!("Scan[parquet {}]", s.source.label()),
            PlanNode::Op(op) => op_title(op),
            PlanNode::Fused(ops) => format!(
                "Fused[{}]",
                ops.iter()
                    .rev()
                    .map(|o| o.label())
                    .collect::<Vec<_>>()
                    .join(" ∘ ")
            ),
            PlanNode::Shuffle(s) => format!("Shuffle[hash({}) -> {}]", s.id_column, s.partitions),
            PlanNode::Collect => "Collect".to_string(),
            PlanNode::Aggregate(a) => format!("Aggregate[{}]", a.name),
        }
    }
}

/// The type a key column of `batch_on` has in the output: its own, a dictionary-encoded
/// column (the band) as its values' type.
pub fn key_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Dictionary(_, values) => (**values).clone(),
        other => other.clone(),
    }
}

fn assignments(items: &[(String, Expr)]) -> String {
    items
        .iter()
        .map(|(n, e)| format!("{n} = {e}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn op_title(op: &PartitionOp) -> String {
    match op {
        PartitionOp::Filter(p) => format!("Filter[{p}]"),
        PartitionOp::Project(c) => format!("Project[{}]", c.join(", ")),
        PartitionOp::Map(m) => format!("Map[{}]", m.name),
        PartitionOp::Apply(a) => format!("Apply[{}]  mode={}", a.label(), a.mode),
        PartitionOp::Assign(a) => format!("Assign[{}]", assignments(a)),
        PartitionOp::SortLightcurves(c) => format!("SortLightcurves[{}, {}]", c.id, c.time),
        PartitionOp::KeepObjects(k) => format!(
            "KeepObjects[{} by {}]  mode={}",
            k.predicate,
            k.apply.label(),
            k.apply.mode
        ),
        PartitionOp::JoinObjects(j) => {
            format!(
                "JoinObjects[{} from {}]",
                j.columns.join(", "),
                j.file_name()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Nobs, StetsonJ};

    /// The generator's columns, as `ColumnMap::generated()` names them.
    fn input() -> SchemaRef {
        crate::io::generate::schema()
    }

    fn apply(function: Arc<dyn LightcurveFunction>, bands: &[&str], id: &str) -> PartitionOp {
        let mut columns = ColumnMap::generated();
        columns.id = id.to_string();
        PartitionOp::Apply(ApplySpec {
            function,
            mode: BatchMode::Auto,
            columns,
            bands: Arc::new(bands.iter().map(|b| b.to_string()).collect()),
            bad_values: Default::default(),
            on: Vec::new(),
        })
    }

    #[test]
    fn a_band_named_total_is_refused_when_the_plan_is_built() {
        let op = apply(Arc::new(Nobs), &["g", "r"], "id");
        assert!(op.output_schema(&input()).is_ok());
        let op = apply(Arc::new(Nobs), &["g", "total"], "id");
        match op.output_schema(&input()).unwrap_err() {
            Error::Function { function, message } => {
                assert_eq!(function, "nobs");
                assert!(
                    message.contains("'nobs_total' would appear twice"),
                    "{message}"
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_output_column_named_like_the_id_is_refused() {
        let mut schema: Vec<Field> = input().fields().iter().map(|f| (**f).clone()).collect();
        schema[0] = Field::new("stetson_j_g", DataType::Int64, false);
        let op = apply(Arc::new(StetsonJ), &["g"], "stetson_j_g");
        let e = op
            .output_schema(&Arc::new(Schema::new(schema)))
            .unwrap_err();
        assert!(
            e.to_string().contains("'stetson_j_g' would appear twice"),
            "{e}"
        );
    }
}
