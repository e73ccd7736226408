//! FNV-1a, the one hash behind the fingerprints colt stores: a lowered
//! kernel's ([`LoopNest::fingerprint`](crate::loopnest::LoopNest::fingerprint)),
//! a workload's ([`workload_fingerprint`]) and the input generator's
//! per-buffer streams ([`data`](crate::data)). Databases written by earlier
//! versions hold these values, so the definition must never change.

use crate::program::Program;
use crate::text::print_program;

/// 64-bit FNV-1a (Fowler, Noll and Vo): offset basis `0xcbf29ce484222325`,
/// prime `0x100000001b3`, each byte xored in, then multiplied. Not a
/// cryptographic hash: it tells apart texts that differ, fast and
/// identically on every machine.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    bytes.iter().fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The fingerprint of a workload as the tuning database stores it: 16
/// lowercase hex digits of [`fnv1a`] of the program's text
/// ([`print_program`]), so two programs that print the same are one
/// workload, whatever their origin (built-in or file).
pub fn workload_fingerprint(program: &Program) -> String {
    format!("{:016x}", fnv1a(print_program(program).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference test suite (Landon Curt Noll).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_workload_fingerprint_is_its_printed_text_hashed() {
        let program = crate::builtin("gemm-512").unwrap().program(crate::Size::Bench);
        let fp = workload_fingerprint(&program);
        assert_eq!(fp.len(), 16);
        assert!(fp.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{fp}");
        assert_eq!(fp, format!("{:016x}", fnv1a(print_program(&program).as_bytes())));
        // The same text parsed back is the same workload; another program is not.
        let reparsed = crate::parse_workload(&print_program(&program), "gemm.colt", crate::Size::Bench).unwrap();
        assert_eq!(workload_fingerprint(&reparsed), fp);
        let other = crate::builtin("flux-conv").unwrap().program(crate::Size::Bench);
        assert_ne!(workload_fingerprint(&other), fp);
    }
}
