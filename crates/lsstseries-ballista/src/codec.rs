//! Shipping our nodes to executors: a `PhysicalExtensionCodec` that writes [`ScanExec`]
//! and [`StageExec`] as protobuf messages (prost, Ballista's own wire format) and hands
//! every other node to Ballista's codec.
//!
//! What travels: a scan as its files, column roles, bands, bad-value policy, partition
//! slices, projection, the columns decoding checks (read by name), skipped row groups and
//! the rows the page index skips (each executor reopens the footers; skips travel as
//! computed, so every executor reads exactly the rows the planning process would); a
//! function by its registry name plus its parameters (checked against the function the
//! receiver has under that name) and its `batch_on` keys; an object-file join as the
//! file's path, id column and id mapping plus the columns joined (every process decoding
//! the plan, the scheduler and each executor, reads the object file again, so, like the
//! sources' footers, it must see the file at the same path); predicates
//! and expressions as the query language's text, which the core's parser reads back to the
//! same tree (checked when encoding). A closure (`PartitionOp::Map`, an unregistered
//! function) cannot travel: encoding fails naming the node.

use crate::error::Error;
use crate::exec::{ScanExec, StageExec, StageShape};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use ballista_core::serde::BallistaPhysicalExtensionCodec;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use lsstseries::analysis::FunctionRegistry;
use lsstseries::io::{
    BadValues, ColumnMap, IdKey, ObjectTable, PageSkip, PartitionSlice, RowGroupSkip, RowRanges,
    SourceSpec,
};
use lsstseries::plan::{
    parse_query, ApplySpec, Expr, JoinObjectsSpec, KeepObjectsSpec, PartitionOp, PushedFilter,
    ScanNode,
};
use prost::Message;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// First bytes of our messages, so decoding tells ours from Ballista's.
const MAGIC: &[u8] = b"LSST1";

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(message, optional, tag = "1")]
    scan: Option<ScanProto>,
    #[prost(message, optional, tag = "2")]
    stage: Option<StageProto>,
}

#[derive(Clone, PartialEq, Message)]
struct ColumnsProto {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    time: String,
    #[prost(string, tag = "3")]
    flux: String,
    #[prost(string, tag = "4")]
    err: String,
    #[prost(string, tag = "5")]
    band: String,
    /// Integer band codes as `1=g,2=r` (empty: the band column holds names).
    #[prost(string, tag = "6")]
    band_codes: String,
}

#[derive(Clone, PartialEq, Message)]
struct PathKeyProto {
    #[prost(uint64, tag = "1")]
    file: u64,
    #[prost(string, tag = "2")]
    key: String,
    #[prost(string, tag = "3")]
    value: String,
}

#[derive(Clone, PartialEq, Message)]
struct SliceProto {
    #[prost(uint64, tag = "1")]
    file: u64,
    #[prost(uint64, tag = "2")]
    start: u64,
    #[prost(uint64, tag = "3")]
    rows: u64,
}

#[derive(Clone, PartialEq, Message)]
struct SkipProto {
    #[prost(bool, repeated, tag = "1")]
    flags: Vec<bool>,
}

/// Rows of one file the page index leaves out: `starts[i]..ends[i]`.
#[derive(Clone, PartialEq, Message)]
struct RangesProto {
    #[prost(uint64, repeated, tag = "1")]
    starts: Vec<u64>,
    #[prost(uint64, repeated, tag = "2")]
    ends: Vec<u64>,
}

#[derive(Clone, PartialEq, Message)]
struct ScanProto {
    #[prost(string, repeated, tag = "1")]
    files: Vec<String>,
    #[prost(message, optional, tag = "2")]
    columns: Option<ColumnsProto>,
    #[prost(string, repeated, tag = "3")]
    bands: Vec<String>,
    #[prost(string, tag = "4")]
    bad_values: String,
    #[prost(message, repeated, tag = "5")]
    partitions: Vec<SliceProto>,
    #[prost(string, repeated, tag = "6")]
    projection: Vec<String>,
    #[prost(bool, tag = "7")]
    has_skip: bool,
    #[prost(message, repeated, tag = "8")]
    skip: Vec<SkipProto>,
    #[prost(string, repeated, tag = "9")]
    pushed_filters: Vec<String>,
    #[prost(message, repeated, tag = "10")]
    path_keys: Vec<PathKeyProto>,
    /// Columns read by name whose bad values decoding refuses.
    #[prost(string, repeated, tag = "11")]
    checked: Vec<String>,
    /// Per file, the rows the page index leaves out.
    #[prost(message, repeated, tag = "12")]
    pages: Vec<RangesProto>,
    #[prost(uint64, tag = "13")]
    pages_skipped: u64,
    #[prost(uint64, tag = "14")]
    pages_total: u64,
}

#[derive(Clone, PartialEq, Message)]
struct ApplyProto {
    #[prost(string, tag = "1")]
    function: String,
    #[prost(string, tag = "2")]
    parameters: String,
    #[prost(string, tag = "3")]
    mode: String,
    #[prost(message, optional, tag = "4")]
    columns: Option<ColumnsProto>,
    #[prost(string, repeated, tag = "5")]
    bands: Vec<String>,
    #[prost(string, tag = "6")]
    bad_values: String,
    /// `batch_on` key columns besides the id.
    #[prost(string, repeated, tag = "7")]
    on: Vec<String>,
}

/// An object-file join: the receiver reads the file again.
#[derive(Clone, PartialEq, Message)]
struct JoinObjectsProto {
    #[prost(string, tag = "1")]
    file: String,
    /// The object file's id column.
    #[prost(string, tag = "2")]
    file_id: String,
    /// The source's id mapping: `int64` or `flipped_uint64`.
    #[prost(string, tag = "3")]
    id_key: String,
    /// The input's id column.
    #[prost(string, tag = "4")]
    id: String,
    #[prost(string, repeated, tag = "5")]
    columns: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct AssignProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    expr: String,
}

#[derive(Clone, PartialEq, Message)]
struct OpProto {
    /// filter, project, apply, assign, sort_lightcurves, keep_objects, join_objects
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "2")]
    expr: String,
    #[prost(string, repeated, tag = "3")]
    names: Vec<String>,
    #[prost(message, optional, tag = "4")]
    apply: Option<ApplyProto>,
    #[prost(message, repeated, tag = "5")]
    assign: Vec<AssignProto>,
    #[prost(message, optional, tag = "6")]
    columns: Option<ColumnsProto>,
    #[prost(message, optional, tag = "7")]
    join: Option<JoinObjectsProto>,
}

#[derive(Clone, PartialEq, Message)]
struct StageProto {
    #[prost(bytes = "vec", tag = "1")]
    input_schema: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    ops: Vec<OpProto>,
    #[prost(bool, tag = "3")]
    from_shuffle: bool,
    #[prost(bool, tag = "4")]
    append_order: bool,
    #[prost(string, optional, tag = "5")]
    hash_by: Option<String>,
    #[prost(string, optional, tag = "6")]
    sort_by: Option<String>,
    #[prost(string, tag = "7")]
    label: String,
}

/// Our nodes to bytes and back; other nodes go to Ballista's codec.
///
/// Install it on the client, the scheduler and every executor; its registry is the one the
/// executor resolves function names in (the built-ins, plus the functions compiled into the
/// executor program).
#[derive(Debug)]
pub struct LsstCodec {
    registry: FunctionRegistry,
    ballista: BallistaPhysicalExtensionCodec,
    sources: Mutex<HashMap<SourceSpecKey, Arc<lsstseries::io::ParquetSource>>>,
    objects: Mutex<HashMap<(String, String, IdKey), Arc<ObjectTable>>>,
}

type SourceSpecKey = Vec<u8>;

/// Entries a process keeps of reopened sources and object files before starting afresh.
const CACHE_ENTRIES: usize = 16;

impl LsstCodec {
    /// A codec resolving functions in `registry`.
    pub fn new(registry: FunctionRegistry) -> Self {
        LsstCodec {
            registry,
            ballista: BallistaPhysicalExtensionCodec::default(),
            sources: Mutex::new(HashMap::new()),
            objects: Mutex::new(HashMap::new()),
        }
    }

    /// A codec resolving the built-in functions.
    pub fn builtins() -> Self {
        LsstCodec::new(FunctionRegistry::with_builtins())
    }

    /// Checks that every one of our nodes in `plan` can travel (encodes them), so a plan
    /// holding a closure fails before it is submitted, naming the node.
    pub fn check_shippable(&self, plan: &dyn ExecutionPlan) -> Result<(), Error> {
        if let Some(r) = self.encode_node(plan) {
            r?;
        }
        for child in plan.children() {
            self.check_shippable(child.as_ref())?;
        }
        Ok(())
    }

    /// Encodes one of our nodes (`None` for another kind of node).
    pub fn encode_node(&self, node: &dyn ExecutionPlan) -> Option<Result<Vec<u8>, Error>> {
        let proto = if let Some(scan) = node.downcast_ref::<ScanExec>() {
            Ok(NodeProto {
                scan: Some(encode_scan(scan)),
                stage: None,
            })
        } else if let Some(stage) = node.downcast_ref::<StageExec>() {
            self.encode_stage(stage).map(|s| NodeProto {
                scan: None,
                stage: Some(s),
            })
        } else {
            return None;
        };
        Some(proto.map(|p| {
            let mut buf = MAGIC.to_vec();
            buf.extend(p.encode_to_vec());
            buf
        }))
    }

    /// Decodes one of our nodes over `inputs`.
    pub fn decode_node(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
    ) -> Result<Arc<dyn ExecutionPlan>, Error> {
        let body = buf
            .strip_prefix(MAGIC)
            .ok_or_else(|| Error::Decode("not an lsstseries node".into()))?;
        let proto = NodeProto::decode(body).map_err(|e| Error::Decode(e.to_string()))?;
        if let Some(scan) = proto.scan {
            let [tokens] = inputs else {
                return Err(Error::Decode(format!(
                    "a scan has 1 input (its partition numbers), got {}",
                    inputs.len()
                )));
            };
            let scan = self.decode_scan(&scan, body)?;
            return Ok(Arc::new(ScanExec::with_tokens(scan, tokens.clone())));
        }
        let stage = proto
            .stage
            .ok_or_else(|| Error::Decode("a node that is neither scan nor stage".into()))?;
        let [input] = inputs else {
            return Err(Error::Decode(format!(
                "stage '{}' has {} inputs, expected 1",
                stage.label,
                inputs.len()
            )));
        };
        let input_schema = schema_from_bytes(&stage.input_schema)?;
        let mut ops = Vec::with_capacity(stage.ops.len());
        let mut schema = input_schema.clone();
        for op in &stage.ops {
            let op = self.decode_op(op, &stage.label)?;
            schema = op.output_schema(&schema)?;
            ops.push((op, schema.clone()));
        }
        let shape = StageShape {
            from_shuffle: stage.from_shuffle,
            append_order: stage.append_order,
            hash_by: stage.hash_by,
            sort_by: stage.sort_by,
        };
        Ok(Arc::new(StageExec::new(
            input.clone(),
            input_schema,
            ops,
            shape,
            stage.label,
        )?))
    }

    fn encode_stage(&self, stage: &StageExec) -> Result<StageProto, Error> {
        let mut ops = Vec::with_capacity(stage.ops().len());
        let mut schema = stage.input_schema().clone();
        for (op, expected) in stage.ops() {
            ops.push(self.encode_op(op, stage.label())?);
            // The receiver recomputes each operator's schema from its input: check now that
            // it will get the same.
            schema = op.output_schema(&schema)?;
            if schema != *expected {
                return Err(Error::LocalOnly {
                    node: op.label(),
                    reason: format!(
                        "its output schema does not follow from its input ({schema:?} vs {expected:?})"
                    ),
                });
            }
        }
        let shape = stage.shape();
        Ok(StageProto {
            input_schema: schema_to_bytes(stage.input_schema())?,
            ops,
            from_shuffle: shape.from_shuffle,
            append_order: shape.append_order,
            hash_by: shape.hash_by.clone(),
            sort_by: shape.sort_by.clone(),
            label: stage.label().to_string(),
        })
    }

    fn encode_op(&self, op: &PartitionOp, stage: &str) -> Result<OpProto, Error> {
        // The core's rule, the one `explain()` marks nodes by.
        if let Some(reason) = op.local_only_reason(&self.registry) {
            return Err(Error::LocalOnly {
                node: match op {
                    PartitionOp::Map(_) => format!("{} (in stage {stage})", op.label()),
                    _ => op.label(),
                },
                reason,
            });
        }
        let mut p = OpProto {
            kind: String::new(),
            expr: String::new(),
            names: Vec::new(),
            apply: None,
            assign: Vec::new(),
            columns: None,
            join: None,
        };
        match op {
            PartitionOp::Filter(e) => {
                p.kind = "filter".into();
                p.expr = expr_text(e, op)?;
            }
            PartitionOp::Project(c) => {
                p.kind = "project".into();
                p.names = c.clone();
            }
            // Refused above (`local_only_reason`); no closure is ever encoded.
            PartitionOp::Map(m) => {
                return Err(Error::LocalOnly {
                    node: format!("{} (in stage {stage})", op.label()),
                    reason: format!("map {} holds a closure", m.name),
                })
            }
            PartitionOp::Apply(a) => {
                p.kind = "apply".into();
                p.apply = Some(self.encode_apply(a)?);
            }
            PartitionOp::Assign(items) => {
                p.kind = "assign".into();
                for (name, e) in items {
                    p.assign.push(AssignProto {
                        name: name.clone(),
                        expr: expr_text(e, op)?,
                    });
                }
            }
            PartitionOp::SortLightcurves(c) => {
                p.kind = "sort_lightcurves".into();
                p.columns = Some(columns_proto(c));
            }
            PartitionOp::KeepObjects(k) => {
                p.kind = "keep_objects".into();
                p.apply = Some(self.encode_apply(&k.apply)?);
                p.expr = expr_text(&k.predicate, op)?;
            }
            PartitionOp::JoinObjects(j) => {
                p.kind = "join_objects".into();
                p.join = Some(encode_join(j, op)?);
            }
        }
        Ok(p)
    }

    fn encode_apply(&self, a: &ApplySpec) -> Result<ApplyProto, Error> {
        // `encode_op` checked the name and parameters against the registry.
        let name = a.function.name();
        Ok(ApplyProto {
            function: name.to_string(),
            parameters: a.function.parameters(),
            mode: a.mode.to_string(),
            columns: Some(columns_proto(&a.columns)),
            bands: a.bands.as_ref().clone(),
            bad_values: a.bad_values.to_string(),
            on: a.on.clone(),
        })
    }

    fn decode_apply(&self, p: &ApplyProto, stage: &str) -> Result<ApplySpec, Error> {
        // The registered function, or one built from the shipped parameters.
        let function = match self
            .registry
            .get_with_parameters(&p.function, &p.parameters)
        {
            Ok(f) => f,
            Err(e @ lsstseries::Error::UnknownFunction { .. }) => return Err(e.into()),
            Err(e) => return Err(Error::Decode(format!("stage '{stage}': {e}"))),
        };
        Ok(ApplySpec {
            function,
            mode: p.mode.parse()?,
            columns: column_map(p.columns.as_ref())?,
            bands: Arc::new(p.bands.clone()),
            bad_values: p.bad_values.parse()?,
            on: p.on.clone(),
        })
    }

    /// The object table of a shipped join, read from its file once per process.
    fn decode_join(&self, p: &JoinObjectsProto, stage: &str) -> Result<JoinObjectsSpec, Error> {
        let key = match p.id_key.as_str() {
            "int64" => IdKey::Int64,
            "flipped_uint64" => IdKey::FlippedUInt64,
            other => {
                return Err(Error::Decode(format!(
                    "stage '{stage}': unknown id mapping '{other}' of object file {}",
                    p.file
                )))
            }
        };
        let table = {
            let mut cache = self.objects.lock().unwrap_or_else(|p| p.into_inner());
            let ident = (p.file.clone(), p.file_id.clone(), key);
            match cache.get(&ident) {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(ObjectTable::read(&p.file, &p.file_id, key)?);
                    if cache.len() >= CACHE_ENTRIES {
                        cache.clear();
                    }
                    cache.insert(ident, t.clone());
                    t
                }
            }
        };
        Ok(JoinObjectsSpec {
            table,
            id: p.id.clone(),
            columns: p.columns.clone(),
        })
    }

    fn decode_op(&self, p: &OpProto, stage: &str) -> Result<PartitionOp, Error> {
        let apply = || {
            p.apply.as_ref().ok_or_else(|| {
                Error::Decode(format!("stage '{stage}': {} without its function", p.kind))
            })
        };
        Ok(match p.kind.as_str() {
            "filter" => PartitionOp::Filter(parse_query(&p.expr)?),
            "project" => PartitionOp::Project(p.names.clone()),
            "apply" => PartitionOp::Apply(self.decode_apply(apply()?, stage)?),
            "assign" => PartitionOp::Assign(
                p.assign
                    .iter()
                    .map(|a| Ok((a.name.clone(), parse_query(&a.expr)?)))
                    .collect::<Result<_, Error>>()?,
            ),
            "sort_lightcurves" => PartitionOp::SortLightcurves(column_map(p.columns.as_ref())?),
            "keep_objects" => PartitionOp::KeepObjects(KeepObjectsSpec {
                apply: self.decode_apply(apply()?, stage)?,
                predicate: parse_query(&p.expr)?,
            }),
            "join_objects" => {
                let join = p.join.as_ref().ok_or_else(|| {
                    Error::Decode(format!("stage '{stage}': join_objects without its file"))
                })?;
                PartitionOp::JoinObjects(self.decode_join(join, stage)?)
            }
            other => {
                return Err(Error::Decode(format!(
                    "stage '{stage}': unknown operator '{other}'"
                )))
            }
        })
    }

    fn decode_scan(&self, p: &ScanProto, key: &[u8]) -> Result<ScanNode, Error> {
        let spec = SourceSpec {
            files: p.files.iter().map(PathBuf::from).collect(),
            columns: column_map(p.columns.as_ref())?,
            path_keys: {
                let mut keys = vec![Vec::new(); p.files.len()];
                for k in &p.path_keys {
                    let slot = keys.get_mut(k.file as usize).ok_or_else(|| {
                        Error::Decode(format!("path key of file {} beyond the files", k.file))
                    })?;
                    slot.push((k.key.clone(), k.value.clone()));
                }
                keys
            },
            bands: p.bands.clone(),
            bad_values: p.bad_values.parse::<BadValues>()?,
            partitions: p
                .partitions
                .iter()
                .map(|s| PartitionSlice {
                    file: s.file as usize,
                    start: s.start as usize,
                    rows: s.rows as usize,
                    id_range: None,
                    sorted: None,
                })
                .collect(),
        };
        // Every task decodes its stage's plan: open each source's footers once per process.
        let source = {
            let mut cache = self.sources.lock().unwrap_or_else(|p| p.into_inner());
            match cache.get(key) {
                Some(s) => s.clone(),
                None => {
                    let s = Arc::new(lsstseries::io::ParquetSource::reopen(&spec)?);
                    if cache.len() >= CACHE_ENTRIES {
                        cache.clear();
                    }
                    cache.insert(key.to_vec(), s.clone());
                    s
                }
            }
        };
        let pushed = p.has_skip.then(|| PushedFilter {
            filters: p
                .pushed_filters
                .iter()
                .filter_map(|f| parse_query(f).ok())
                .collect(),
            skip: Arc::new(RowGroupSkip {
                skip: p.skip.iter().map(|s| s.flags.clone()).collect(),
            }),
            pages: Arc::new(PageSkip {
                skip: p
                    .pages
                    .iter()
                    .map(|r| {
                        RowRanges::new(
                            r.starts
                                .iter()
                                .zip(&r.ends)
                                .map(|(&s, &e)| s as usize..e as usize),
                        )
                    })
                    .collect(),
                pages_skipped: p.pages_skipped as usize,
                pages_total: p.pages_total as usize,
            }),
        });
        Ok(ScanNode {
            source,
            projection: p.projection.clone(),
            aligned: false,
            pushed,
            checked: p.checked.clone(),
        })
    }
}

fn encode_scan(scan: &ScanExec) -> ScanProto {
    let spec = scan.spec();
    let node = scan.scan();
    ScanProto {
        files: spec
            .files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect(),
        columns: Some(columns_proto(&spec.columns)),
        path_keys: spec
            .path_keys
            .iter()
            .enumerate()
            .flat_map(|(file, keys)| {
                keys.iter().map(move |(k, v)| PathKeyProto {
                    file: file as u64,
                    key: k.clone(),
                    value: v.clone(),
                })
            })
            .collect(),
        bands: spec.bands.clone(),
        bad_values: spec.bad_values.to_string(),
        partitions: spec
            .partitions
            .iter()
            .map(|s| SliceProto {
                file: s.file as u64,
                start: s.start as u64,
                rows: s.rows as u64,
            })
            .collect(),
        projection: node.projection.clone(),
        has_skip: node.pushed.is_some(),
        skip: node
            .skip()
            .map(|s| {
                s.skip
                    .iter()
                    .map(|f| SkipProto { flags: f.clone() })
                    .collect()
            })
            .unwrap_or_default(),
        pushed_filters: node
            .pushed
            .as_ref()
            .map(|p| p.filters.iter().map(|f| f.to_string()).collect())
            .unwrap_or_default(),
        checked: node.checked.clone(),
        pages: node
            .page_skip()
            .map(|p| {
                p.skip
                    .iter()
                    .map(|r| RangesProto {
                        starts: r.ranges().iter().map(|r| r.start as u64).collect(),
                        ends: r.ranges().iter().map(|r| r.end as u64).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        pages_skipped: node.page_skip().map_or(0, |p| p.pages_skipped as u64),
        pages_total: node.page_skip().map_or(0, |p| p.pages_total as u64),
    }
}

/// An object-file join as its file, id column and id mapping (the receiver reads the file
/// again at the same path) and the columns joined.
fn encode_join(j: &JoinObjectsSpec, op: &PartitionOp) -> Result<JoinObjectsProto, Error> {
    let file = j.table.path.to_str().ok_or_else(|| Error::LocalOnly {
        node: op.label(),
        reason: format!(
            "the object file's path {} is not UTF-8, so it cannot travel",
            j.table.path.display()
        ),
    })?;
    Ok(JoinObjectsProto {
        file: file.to_string(),
        file_id: j.table.id.clone(),
        id_key: match j.table.key {
            IdKey::Int64 => "int64",
            IdKey::FlippedUInt64 => "flipped_uint64",
        }
        .into(),
        id: j.id.clone(),
        columns: j.columns.clone(),
    })
}

/// `e` as text that the query parser reads back to the same expression.
fn expr_text(e: &Expr, op: &PartitionOp) -> Result<String, Error> {
    let text = e.to_string();
    match parse_query(&text) {
        Ok(back) if back == *e => Ok(text),
        _ => Err(Error::LocalOnly {
            node: op.label(),
            reason: format!("the expression '{text}' does not read back as written"),
        }),
    }
}

fn columns_proto(c: &ColumnMap) -> ColumnsProto {
    ColumnsProto {
        id: c.id.clone(),
        time: c.time.clone(),
        flux: c.flux.clone(),
        err: c.err.clone(),
        band: c.band.clone(),
        band_codes: c
            .band_codes
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default(),
    }
}

fn column_map(p: Option<&ColumnsProto>) -> Result<ColumnMap, Error> {
    let p = p.ok_or_else(|| Error::Decode("column roles missing".into()))?;
    let map = ColumnMap::new(
        p.id.clone(),
        p.time.clone(),
        p.flux.clone(),
        p.err.clone(),
        p.band.clone(),
    );
    Ok(if p.band_codes.is_empty() {
        map
    } else {
        map.with_band_codes(p.band_codes.parse()?)
    })
}

fn schema_to_bytes(schema: &SchemaRef) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    let mut w = StreamWriter::try_new(&mut buf, schema).map_err(DataFusionError::from)?;
    w.finish().map_err(DataFusionError::from)?;
    drop(w);
    Ok(buf)
}

fn schema_from_bytes(bytes: &[u8]) -> Result<SchemaRef, Error> {
    let r = StreamReader::try_new(bytes, None).map_err(DataFusionError::from)?;
    Ok(r.schema())
}

impl PhysicalExtensionCodec for LsstCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if buf.starts_with(MAGIC) {
            return Ok(self.decode_node(buf, inputs)?);
        }
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        match self.encode_node(node.as_ref()) {
            Some(bytes) => {
                buf.extend_from_slice(&bytes?);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
    }
}
