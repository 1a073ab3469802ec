//! Regrouping rows by object id: writers split each partition into buckets by a fixed hash
//! of the id; readers take their bucket from every writer.
//!
//! Buckets stay in memory while the run's [`MemoryPool`] has room and go to a spill file
//! (Arrow IPC) otherwise: a writer that cannot reserve its output writes it straight to a
//! file, and a task that needs room makes the store spill what it holds. Readers get the
//! same rows in the same order either way.

use super::spill::{SpillDir, SpillFile};
use crate::error::{Error, Result};
use crate::executor::MemoryPool;
use arrow::array::{AsArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{Int64Type, SchemaRef};
use dashmap::DashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Stable across runs and machines (a plan shipped elsewhere routes the same way).
#[inline]
pub fn partition_of(id: i64, n: usize) -> usize {
    let mut x = id as u64;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x % n as u64) as usize
}

/// Where one writer's bucket for one target is.
#[derive(Debug, Clone)]
enum Location {
    Memory { batch: RecordBatch, bytes: usize },
    Spilled { file: Arc<SpillFile>, index: usize },
}

#[derive(Debug)]
struct Part {
    /// The writing (source) partition: readers concatenate in this order.
    src: usize,
    /// Bytes of the part in memory (what a reader will hold).
    bytes: usize,
    location: Location,
}

/// Buckets in flight between the two sides of one shuffle.
#[derive(Debug)]
pub struct ShuffleStore {
    /// Parts per target partition, in a concurrent map so writers of different targets
    /// never wait on one lock.
    targets: DashMap<usize, Vec<Part>>,
    partitions: usize,
    schema: SchemaRef,
    in_memory: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicUsize,
}

impl ShuffleStore {
    /// A store for `partitions` targets of rows with `schema`.
    pub fn new(partitions: usize, schema: SchemaRef) -> Self {
        ShuffleStore {
            targets: DashMap::new(),
            partitions,
            schema,
            in_memory: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        }
    }

    /// Splits `batch` (from source partition `src`) into buckets by id. Linear in the rows,
    /// whatever the number of targets: rows are ordered by target, then cut into runs.
    pub fn write(
        &self,
        batch: &RecordBatch,
        id_column: &str,
        src: usize,
        pool: &MemoryPool,
        spill: &SpillDir,
    ) -> Result<()> {
        let ids = batch
            .column_by_name(id_column)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| {
                Error::InvalidData(format!(
                    "shuffle: id column '{id_column}' missing or not Int64"
                ))
            })?;
        let n = self.partitions;
        let targets: Vec<u32> = ids
            .values()
            .iter()
            .map(|&id| partition_of(id, n) as u32)
            .collect();
        let mut order: Vec<u32> = (0..targets.len() as u32).collect();
        order.sort_by_key(|&i| targets[i as usize]);
        let mut groups: Vec<(usize, &[u32])> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let t = targets[order[start] as usize];
            let len = order[start..]
                .iter()
                .position(|&i| targets[i as usize] != t)
                .unwrap_or(order.len() - start);
            groups.push((t as usize, &order[start..start + len]));
            start += len;
        }
        let take = |rows: &[u32]| {
            take_record_batch(batch, &UInt32Array::from(rows.to_vec()))
                .map_err(|e| Error::arrow("shuffle write", e))
        };
        let estimate = batch.get_array_memory_size();
        let mut made = Vec::with_capacity(groups.len());
        if pool.try_reserve_buffer(estimate) {
            for &(target, rows) in &groups {
                made.push((target, take(rows)?));
            }
            let held: usize = made.iter().map(|(_, p)| p.get_array_memory_size()).sum();
            // Settle the estimate to what the parts really hold; if that does not fit,
            // they go to disk after all.
            if held <= estimate || pool.try_reserve_buffer(held - estimate) {
                pool.release_buffer(estimate.saturating_sub(held));
                let now = self.in_memory.fetch_add(held, Ordering::Relaxed) + held;
                self.peak.fetch_max(now, Ordering::Relaxed);
            } else {
                pool.release_buffer(estimate);
                let spilled = self.spill_parts(made.into_iter().map(Ok), spill)?;
                return self.add(spilled, src);
            }
        } else {
            // No room: each part goes to disk as soon as it is cut.
            let cut = groups
                .iter()
                .map(|&(target, rows)| Ok((target, take(rows)?)));
            let spilled = self.spill_parts(cut, spill)?;
            return self.add(spilled, src);
        }
        let parts = made
            .into_iter()
            .map(|(target, batch)| {
                let bytes = batch.get_array_memory_size();
                (target, bytes, Location::Memory { batch, bytes })
            })
            .collect();
        self.add(parts, src)
    }

    /// Files `parts` from source partition `src` under their targets.
    fn add(&self, parts: Vec<(usize, usize, Location)>, src: usize) -> Result<()> {
        let mut total = 0;
        for (target, bytes, location) in parts {
            total += bytes;
            self.targets.entry(target).or_default().push(Part {
                src,
                bytes,
                location,
            });
        }
        self.total.fetch_add(total, Ordering::Relaxed);
        Ok(())
    }

    /// Writes one writer's parts to a spill file.
    fn spill_parts(
        &self,
        parts: impl Iterator<Item = Result<(usize, RecordBatch)>>,
        spill: &SpillDir,
    ) -> Result<Vec<(usize, usize, Location)>> {
        let mut writer = spill.writer(&self.schema)?;
        let mut indices = Vec::new();
        for part in parts {
            let (target, part) = part?;
            indices.push((target, part.get_array_memory_size(), writer.push(&part)?));
        }
        let file = Arc::new(writer.finish()?);
        Ok(indices
            .into_iter()
            .map(|(target, bytes, index)| {
                let location = Location::Spilled {
                    file: file.clone(),
                    index,
                };
                (target, bytes, location)
            })
            .collect())
    }

    /// Bytes that target `target` will hold once read.
    pub fn target_bytes(&self, target: usize) -> usize {
        self.targets
            .get(&target)
            .map_or(0, |parts| parts.iter().map(|p| p.bytes).sum())
    }

    /// Every bucket destined for `target`, in source-partition order, concatenated. The
    /// buckets stay in the store (a task may be retried) until [`ShuffleStore::release`].
    pub fn read(&self, target: usize) -> Result<RecordBatch> {
        let mut parts: Vec<(usize, Location)> = self
            .targets
            .get(&target)
            .map(|parts| parts.iter().map(|p| (p.src, p.location.clone())).collect())
            .unwrap_or_default();
        parts.sort_by_key(|(src, _)| *src);
        let mut batches = Vec::with_capacity(parts.len());
        for (_, location) in parts {
            match location {
                Location::Memory { batch, .. } => batches.push(batch),
                Location::Spilled { file, index } => batches.push(file.read(index)?),
            }
        }
        concat_batches(&self.schema, &batches).map_err(|e| Error::arrow("shuffle read", e))
    }

    /// Drops the buckets of `target` (its task is done) and gives their memory back.
    pub fn release(&self, target: usize, pool: &MemoryPool) {
        let parts = self
            .targets
            .remove(&target)
            .map(|(_, parts)| parts)
            .unwrap_or_default();
        let released: usize = parts
            .iter()
            .filter_map(|p| match p.location {
                Location::Memory { bytes, .. } => Some(bytes),
                Location::Spilled { .. } => None,
            })
            .sum();
        self.in_memory.fetch_sub(released, Ordering::Relaxed);
        pool.release_buffer(released);
    }

    /// Moves every bucket still in memory to one spill file and gives its memory back.
    /// Buckets are copied out first and switched to their file afterwards, each under its
    /// shard's lock: a reader meanwhile still finds the bucket in memory, and a bucket whose
    /// task released it in between is left alone (its memory was given back then).
    pub fn spill_all(&self, pool: &MemoryPool, spill: &SpillDir) -> Result<()> {
        let mut pending: Vec<(usize, usize, RecordBatch)> = Vec::new();
        for entry in self.targets.iter() {
            for (k, p) in entry.value().iter().enumerate() {
                if let Location::Memory { batch, .. } = &p.location {
                    pending.push((*entry.key(), k, batch.clone()));
                }
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut writer = spill.writer(&self.schema)?;
        let mut moved = Vec::with_capacity(pending.len());
        for (target, k, batch) in pending {
            moved.push((target, k, writer.push(&batch)?));
        }
        let file = Arc::new(writer.finish()?);
        let mut released = 0;
        for (target, k, index) in moved {
            if let Some(mut parts) = self.targets.get_mut(&target) {
                if let Some(p) = parts.get_mut(k) {
                    if let Location::Memory { bytes, .. } = p.location {
                        p.location = Location::Spilled {
                            file: file.clone(),
                            index,
                        };
                        released += bytes;
                    }
                }
            }
        }
        self.in_memory.fetch_sub(released, Ordering::Relaxed);
        pool.release_buffer(released);
        Ok(())
    }

    /// Bytes that passed through the shuffle.
    pub fn bytes_shuffled(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Largest number of bytes held in memory at once.
    pub fn peak_bytes(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_spreads_and_is_stable() {
        let mut counts = [0usize; 4];
        for id in 0..10_000 {
            counts[partition_of(id, 4)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 2_000), "{counts:?}");
    }

    /// Pinned routing: a plan shipped elsewhere must send every id to the same partition.
    /// `partition_of` is MurmurHash3's 64-bit finalizer (fmix64) of the id's bits, modulo
    /// `n`; the expected values were computed independently (Python, from the MurmurHash3
    /// definition), e.g. fmix64(1) = 0xb456_bcfc_34c2_cb2c, fmix64(88472935274829959) =
    /// 0xe047_cf2c_8f83_3444. Changing the hash changes these and must be deliberate.
    #[test]
    fn hash_values_are_pinned() {
        // (id, partition of 4, of 7, of 8, of 16)
        let cases: [(i64, [usize; 4]); 10] = [
            (0, [0, 0, 0, 0]),
            (1, [0, 0, 4, 12]),
            (2, [3, 5, 7, 7]),
            (3, [2, 2, 6, 14]),
            (42, [0, 3, 4, 12]),
            (1_000_000, [3, 1, 3, 3]),
            (-1, [1, 5, 1, 1]),
            (88472935274829959, [0, 5, 4, 4]),
            (i64::MIN, [3, 0, 3, 3]),
            (i64::MAX, [2, 3, 2, 10]),
        ];
        for (id, want) in cases {
            let got = [4, 7, 8, 16].map(|n| partition_of(id, n));
            assert_eq!(got, want, "id {id}");
        }
        // One partition takes everything.
        assert_eq!(partition_of(88472935274829959, 1), 0);
    }
}
