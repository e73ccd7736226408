//! An append-only arena: concurrent push with stable indices, lock-free reads.
//!
//! Slots live in buckets of doubling size (32, 64, 128, ... slots), each
//! allocated on first use, so growing never moves an existing slot and a
//! reference to a slot stays valid for the arena's life. Both the bucket and
//! the slot are `OnceLock`s: a push reserves an index with an atomic counter
//! and sets its slot once; a read is two `OnceLock::get`s (an acquire load
//! each) and no lock. This is the `boxcar` design, written with `OnceLock`
//! instead of raw pointers so that the crate needs no `unsafe`; the price is
//! one `Once` word per slot.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// log2 of the first bucket's size: small enough that a tiny tree costs
/// little, large enough that the first few expansions share one allocation.
const FIRST_BUCKET_BITS: u32 = 5;
const FIRST_BUCKET: u64 = 1 << FIRST_BUCKET_BITS;

/// Buckets needed to cover every `u32` index: index `i` lives in bucket
/// `log2(i + 32) - 5`, at most `32 - 5 = 27` for `i < 2^32`.
const BUCKETS: usize = (u32::BITS + 1 - FIRST_BUCKET_BITS) as usize;

/// Indices at or above this are never handed out; `u32::MAX` is the "no
/// node" sentinel of the tree's links.
pub(crate) const CAPACITY: usize = u32::MAX as usize;

pub(crate) struct Arena<T> {
    buckets: [OnceLock<Box<[OnceLock<T>]>>; BUCKETS],
    /// Indices handed out so far; every index below it is, or is about to
    /// be, set.
    reserved: AtomicUsize,
}

/// The bucket and the offset in it of slot `index`.
fn locate(index: u32) -> (usize, usize) {
    let shifted = u64::from(index) + FIRST_BUCKET;
    let log2 = u64::BITS - 1 - shifted.leading_zeros();
    let bucket = log2 - FIRST_BUCKET_BITS;
    let offset = shifted - (FIRST_BUCKET << bucket);
    (bucket as usize, offset as usize)
}

fn bucket_len(bucket: usize) -> usize {
    (FIRST_BUCKET as usize) << bucket
}

impl<T> Arena<T> {
    pub(crate) fn new() -> Self {
        Arena { buckets: std::array::from_fn(|_| OnceLock::new()), reserved: AtomicUsize::new(0) }
    }

    /// Appends `value` and returns its index, or gives the value back when
    /// the arena is full.
    pub(crate) fn push(&self, value: T) -> Result<u32, T> {
        // A CAS loop rather than `fetch_add`, so that a full arena's counter
        // stays at CAPACITY instead of creeping past it on every refused push.
        let Ok(reserved) =
            self.reserved.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < CAPACITY).then_some(n + 1))
        else {
            return Err(value);
        };
        // reserved < CAPACITY = u32::MAX, so it fits.
        let index = reserved as u32;
        let (bucket, offset) = locate(index);
        let slots = self.buckets[bucket].get_or_init(|| (0..bucket_len(bucket)).map(|_| OnceLock::new()).collect());
        // Each index is reserved by exactly one push, so its slot is empty
        // and `set` cannot fail; `offset < bucket_len(bucket)` by `locate`.
        let set = slots[offset].set(value);
        debug_assert!(set.is_ok(), "arena slot {index} set twice");
        Ok(index)
    }

    /// The value at `index`, if it has been pushed and its push finished.
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        let (bucket, offset) = locate(index);
        self.buckets.get(bucket)?.get()?.get(offset)?.get()
    }

    /// Indices handed out so far (including pushes still in progress).
    pub(crate) fn reserved(&self) -> usize {
        self.reserved.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn locate_walks_buckets_in_order() {
        let mut expected = (0, 0);
        for index in 0..10_000u32 {
            assert_eq!(locate(index), expected, "index {index}");
            expected.1 += 1;
            if expected.1 == bucket_len(expected.0) {
                expected = (expected.0 + 1, 0);
            }
        }
        assert_eq!(locate(u32::MAX).0, BUCKETS - 1);
    }

    #[test]
    fn concurrent_pushes_get_distinct_stable_indices() {
        let arena = Arc::new(Arena::new());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let arena = Arc::clone(&arena);
                std::thread::spawn(move || {
                    (0..5_000u64)
                        .map(|i| {
                            let value = t * 1_000_000 + i;
                            (arena.push(value).unwrap(), value)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen = vec![false; 20_000];
        for thread in threads {
            for (index, value) in thread.join().unwrap() {
                assert_eq!(arena.get(index), Some(&value));
                assert!(!std::mem::replace(&mut seen[index as usize], true));
            }
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(arena.reserved(), 20_000);
        assert_eq!(arena.get(20_000), None);
    }
}
