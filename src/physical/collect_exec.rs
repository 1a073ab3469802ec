//! Gathering the last stage's outputs into a result in id order: as one batch
//! ([`ResultStore::take_batch`]) or as a stream of batches ([`ResultStream`]).
//!
//! Each task's output is sorted by id (stably) and kept as a run, in memory while the
//! run's memory pool has room, else in a spill file in chunks. One batch is the stable sort
//! of all rows by id; the stream is a k-way merge of the runs that breaks ties by partition,
//! so both give the same rows in the same order, and the stream holds one chunk per run.

use super::portable::sort_by_id_stable;
use super::spill::{SpillFile, SpillReader};
use super::{RunContext, RunMetrics};
use crate::error::{Error, Result};
use arrow::array::{AsArray, RecordBatch};
use arrow::compute::{concat_batches, interleave_record_batch};
use arrow::datatypes::{Int64Type, SchemaRef};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

/// Rows per spilled chunk and per streamed batch.
pub const CHUNK_ROWS: usize = 65_536;

#[derive(Debug)]
enum Run {
    Memory { batch: RecordBatch, bytes: usize },
    Spilled { file: SpillFile, bytes: usize },
}

/// The sorted outputs of the last stage, one run per partition.
#[derive(Debug)]
pub struct ResultStore {
    runs: Mutex<Vec<Option<Run>>>,
    schema: SchemaRef,
    id_column: Option<String>,
}

impl ResultStore {
    /// A store for `partitions` outputs of `schema`, ordered by `id_column` if given.
    pub fn new(partitions: usize, schema: SchemaRef, id_column: Option<String>) -> Self {
        ResultStore {
            runs: Mutex::new((0..partitions).map(|_| None).collect()),
            schema,
            id_column,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Run>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps partition `index`'s output, sorted by id.
    pub fn push(&self, index: usize, batch: RecordBatch, ctx: &RunContext) -> Result<()> {
        let batch = match &self.id_column {
            Some(id) => sort_by_id_stable(batch, id)?,
            None => batch,
        };
        let bytes = batch.get_array_memory_size();
        let run = if ctx.pool.try_reserve_buffer(bytes) {
            Run::Memory { batch, bytes }
        } else {
            Run::Spilled {
                file: spill_chunks(&batch, ctx)?,
                bytes,
            }
        };
        if let Some(slot) = self.lock().get_mut(index) {
            *slot = Some(run);
        }
        Ok(())
    }

    fn take_runs(&self) -> Vec<Run> {
        std::mem::take(&mut *self.lock())
            .into_iter()
            .flatten()
            .collect()
    }

    /// Moves every run still in memory to spill files and gives its memory back.
    pub fn spill_all(&self, ctx: &RunContext) -> Result<()> {
        let mut runs = self.lock();
        for slot in runs.iter_mut() {
            if let Some(Run::Memory { batch, bytes }) = slot {
                let file = spill_chunks(batch, ctx)?;
                ctx.pool.release_buffer(*bytes);
                *slot = Some(Run::Spilled {
                    file,
                    bytes: *bytes,
                });
            }
        }
        Ok(())
    }

    /// The whole result as one batch in id order. Fails with [`Error::MemoryLimit`] when
    /// it does not fit the limit (use a stream for such results).
    pub fn take_batch(&self, ctx: &RunContext) -> Result<RecordBatch> {
        let runs = self.take_runs();
        let total: usize = runs
            .iter()
            .map(|r| match r {
                Run::Memory { bytes, .. } | Run::Spilled { bytes, .. } => *bytes,
            })
            .sum();
        let spilled = runs.iter().any(|r| matches!(r, Run::Spilled { .. }));
        // The gathered copy needs room beside the runs.
        if spilled || !ctx.pool.try_reserve_buffer(total) {
            return Err(Error::MemoryLimit {
                operation: "gathering the result into one batch (stream it instead: \
                            Frame::compute_stream or Frame::write_parquet)"
                    .into(),
                needed: total.saturating_mul(2),
                limit: ctx.pool.limit().unwrap_or(usize::MAX),
            });
        }
        let batches: Vec<RecordBatch> = runs
            .into_iter()
            .filter_map(|r| match r {
                Run::Memory { batch, .. } => Some(batch),
                Run::Spilled { .. } => None,
            })
            .collect();
        let all = concat_batches(&self.schema, &batches).map_err(|e| Error::arrow("collect", e))?;
        match &self.id_column {
            Some(id) => sort_by_id_stable(all, id),
            None => Ok(all),
        }
    }

    /// The result as a stream of batches in id order; `ctx` (its spill files and memory)
    /// lives as long as the stream.
    pub fn take_stream(&self, ctx: Arc<RunContext>) -> Result<ResultStream> {
        let runs = self.take_runs();
        let mut cursors = Vec::with_capacity(runs.len());
        for run in runs {
            let mut c = match run {
                Run::Memory { batch, .. } => Cursor::new(batch, None),
                Run::Spilled { file, .. } => {
                    let mut reader = file.reader(0)?;
                    match reader.next().transpose()? {
                        Some(first) => Cursor::new(first, Some(reader)),
                        None => continue,
                    }
                }
            };
            c.load_ids(self.id_column.as_deref())?;
            if c.batch.num_rows() > 0 {
                cursors.push(c);
            }
        }
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        if self.id_column.is_some() {
            for (r, c) in cursors.iter().enumerate() {
                heap.push(Reverse((c.ids[0], r)));
            }
        }
        Ok(ResultStream {
            schema: self.schema.clone(),
            id_column: self.id_column.clone(),
            cursors,
            heap,
            next_run: 0,
            map: None,
            metrics: RunMetrics::default(),
            _ctx: Some(ctx),
        })
    }
}

fn spill_chunks(batch: &RecordBatch, ctx: &RunContext) -> Result<SpillFile> {
    let chunks: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(CHUNK_ROWS)
        .map(|s| batch.slice(s, CHUNK_ROWS.min(batch.num_rows() - s)))
        .collect();
    ctx.spill.write(&batch.schema(), &chunks)
}

/// A run being merged: its current chunk and, for a spilled run, the rest of the file.
struct Cursor {
    batch: RecordBatch,
    ids: Vec<i64>,
    pos: usize,
    rest: Option<SpillReader>,
}

impl Cursor {
    fn new(batch: RecordBatch, rest: Option<SpillReader>) -> Self {
        Cursor {
            batch,
            ids: Vec::new(),
            pos: 0,
            rest,
        }
    }

    fn load_ids(&mut self, id: Option<&str>) -> Result<()> {
        self.ids = match id.and_then(|c| self.batch.column_by_name(c)) {
            Some(col) => col
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| {
                    Error::InvalidData(format!("result id column is {}", col.data_type()))
                })?
                .values()
                .to_vec(),
            None => Vec::new(),
        };
        Ok(())
    }

    /// Moves to the next chunk of a spilled run; `false` when the run is done.
    fn advance_chunk(&mut self, id: Option<&str>) -> Result<bool> {
        let Some(rest) = self.rest.as_mut() else {
            return Ok(false);
        };
        loop {
            match rest.next().transpose()? {
                Some(b) if b.num_rows() == 0 => continue,
                Some(b) => {
                    self.batch = b;
                    self.pos = 0;
                    self.load_ids(id)?;
                    return Ok(true);
                }
                None => return Ok(false),
            }
        }
    }
}

/// The result of a compute, batch by batch in id order (see `Frame::compute_stream`).
/// Holds one chunk per partition at a time; the run's spill files are removed when the
/// stream is dropped.
pub struct ResultStream {
    schema: SchemaRef,
    id_column: Option<String>,
    cursors: Vec<Cursor>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// Without an id column: the run being passed through.
    next_run: usize,
    /// Applied to every batch before it is handed out (e.g. restoring UInt64 ids).
    map: Option<BatchMap>,
    metrics: RunMetrics,
    /// Keeps the run's spill files until the stream is dropped.
    _ctx: Option<Arc<RunContext>>,
}

/// A per-batch conversion applied by a [`ResultStream`].
pub type BatchMap = Box<dyn FnMut(RecordBatch) -> Result<RecordBatch> + Send>;

impl std::fmt::Debug for ResultStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStream")
            .field("runs", &self.cursors.len())
            .finish()
    }
}

impl ResultStream {
    /// A stream over a result already in memory (e.g. gathered from a cluster), in
    /// chunks of up to [`CHUNK_ROWS`] rows.
    pub fn from_batch(batch: RecordBatch, metrics: RunMetrics) -> Self {
        let cursors = (0..batch.num_rows())
            .step_by(CHUNK_ROWS)
            .map(|s| {
                let chunk = batch.slice(s, CHUNK_ROWS.min(batch.num_rows() - s));
                Cursor::new(chunk, None)
            })
            .collect();
        ResultStream {
            schema: batch.schema(),
            id_column: None,
            cursors,
            heap: BinaryHeap::new(),
            next_run: 0,
            map: None,
            metrics,
            _ctx: None,
        }
    }

    /// Schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The run's counters; `rows_out` counts the rows handed out so far.
    pub fn metrics(&self) -> &RunMetrics {
        &self.metrics
    }

    /// Converts every batch with `map`, whose output schema is `schema`.
    pub fn map_batches(mut self, schema: SchemaRef, map: BatchMap) -> Self {
        self.schema = schema;
        self.map = Some(map);
        self
    }

    pub(super) fn set_metrics(&mut self, metrics: RunMetrics) {
        self.metrics = metrics;
    }

    fn next_unordered(&mut self) -> Result<Option<RecordBatch>> {
        while let Some(c) = self.cursors.get_mut(self.next_run) {
            if c.pos < c.batch.num_rows() {
                c.pos = c.batch.num_rows();
                return Ok(Some(c.batch.clone()));
            }
            if !c.advance_chunk(None)? {
                self.next_run += 1;
            }
        }
        Ok(None)
    }

    fn next_merged(&mut self) -> Result<Option<RecordBatch>> {
        let id = self.id_column.clone();
        // Chunks the output rows come from: (run, chunk generation) -> slot in `sources`.
        let mut sources: Vec<RecordBatch> = Vec::new();
        let mut slot_of: Vec<Option<usize>> = vec![None; self.cursors.len()];
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(CHUNK_ROWS);
        while picks.len() < CHUNK_ROWS {
            let Some(Reverse((_, r))) = self.heap.pop() else {
                break;
            };
            let c = &mut self.cursors[r];
            let slot = *slot_of[r].get_or_insert_with(|| {
                sources.push(c.batch.clone());
                sources.len() - 1
            });
            // Take every row of this run up to the next run's smallest id in one go.
            let bound = self.heap.peek().map(|Reverse(k)| *k);
            loop {
                picks.push((slot, c.pos));
                c.pos += 1;
                if c.pos == c.ids.len() || picks.len() == CHUNK_ROWS {
                    break;
                }
                if bound.is_some_and(|b| (c.ids[c.pos], r) > b) {
                    break;
                }
            }
            if c.pos == c.ids.len() {
                if !c.advance_chunk(id.as_deref())? {
                    continue;
                }
                slot_of[r] = None;
            }
            self.heap.push(Reverse((c.ids[c.pos], r)));
        }
        if picks.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&RecordBatch> = sources.iter().collect();
        interleave_record_batch(&refs, &picks)
            .map(Some)
            .map_err(|e| Error::arrow("merging results", e))
    }
}

impl Iterator for ResultStream {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = if self.id_column.is_some() {
            self.next_merged()
        } else {
            self.next_unordered()
        };
        let next = match (next, self.map.as_mut()) {
            (Ok(Some(b)), Some(map)) => map(b).map(Some),
            (other, _) => other,
        };
        if let Ok(Some(b)) = &next {
            self.metrics.rows_out += b.num_rows() as u64;
        }
        next.transpose()
    }
}
