//! The seeded input generator and the output check, shared by the reference
//! interpreter, colt-measure and the tests, so every layer of colt fills and
//! compares buffers the same way.
//!
//! Generator: each buffer has its own SplitMix64 stream, seeded with
//! `splitmix64(seed ^ fnv1a(buffer name))`; element `e` of the buffer is
//! the `e`-th draw `x` mapped to `(x >> 40) as f32 * 2^-23 - 1`, i.e. a
//! multiple of 2^-23 in [-1, 1). Keying streams by name makes a buffer's data
//! independent of the other buffers' sizes and order.

use crate::program::{BufferRole, Program};

/// The relative tolerance of the suite: `max|a-b| / (max|ref| + 1e-6)`.
pub const TOLERANCE: f32 = 1e-3;

/// The seed colt uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 0;

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): the generator
/// behind the inputs and behind seeded sampling of candidates.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` values in [-1, 1) for the buffer called `name`.
pub fn fill(name: &str, len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed ^ crate::fnv1a(name.as_bytes());
    let mut stream = splitmix64(&mut state);
    (0..len)
        .map(|_| {
            let x = splitmix64(&mut stream);
            (x >> 40) as f32 * (1.0 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// Every buffer of the program, in declaration order: inputs filled from
/// the generator, temporaries and outputs zero.
pub fn initial_buffers(program: &Program, seed: u64) -> Vec<Vec<f32>> {
    program
        .buffers()
        .iter()
        .map(|b| match b.role {
            BufferRole::Input => fill(&b.name, b.len(), seed),
            BufferRole::Temp | BufferRole::Output => vec![0.0; b.len()],
        })
        .collect()
}

/// `max|a-b| / (max|ref| + 1e-6)`; infinite when the lengths differ or a
/// value is NaN where the reference is not, so garbage never passes.
pub fn max_rel_err(actual: &[f32], reference: &[f32]) -> f32 {
    if actual.len() != reference.len() {
        return f32::INFINITY;
    }
    let mut max_diff = 0.0f32;
    let mut max_ref = 0.0f32;
    for (&a, &r) in actual.iter().zip(reference) {
        if a.is_nan() != r.is_nan() {
            return f32::INFINITY;
        }
        // Infinite references (masked scores) are matched exactly and do not
        // scale the tolerance, or every error would divide by infinity.
        if r.is_finite() {
            max_ref = max_ref.max(r.abs());
        }
        if a != r {
            max_diff = max_diff.max((a - r).abs());
        }
    }
    if max_diff.is_nan() {
        return f32::INFINITY;
    }
    max_diff / (max_ref + 1e-6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lie_in_minus_one_to_one_and_are_deterministic() {
        let a = fill("A", 10_000, 7);
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        assert_eq!(a, fill("A", 10_000, 7));
        assert_ne!(a, fill("B", 10_000, 7));
        assert_ne!(a, fill("A", 10_000, 8));
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn prefix_of_a_longer_buffer_is_the_same_data() {
        assert_eq!(fill("X", 100, 1)[..], fill("X", 1000, 1)[..100]);
    }

    #[test]
    fn relative_error_matches_the_suite_definition() {
        assert_eq!(max_rel_err(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        let e = max_rel_err(&[1.0, 2.1], &[1.0, 2.0]);
        assert!((e - 0.1 / 2.000001).abs() < 1e-6);
        assert_eq!(max_rel_err(&[f32::NAN], &[1.0]), f32::INFINITY);
        assert_eq!(max_rel_err(&[1.0], &[1.0, 2.0]), f32::INFINITY);
        assert_eq!(max_rel_err(&[f32::INFINITY], &[1.0]), f32::INFINITY);
    }
}
