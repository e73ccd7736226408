//! The machine that CPU kernels are shaped for: the vector unit the C
//! compiler targets (kernels are built with `-march=native`, see
//! `compiler.rs`) and the cores the measurer runs tasks on. colt-ir's
//! informed sampler draws register tiles and parallel loops for it.

use crate::CpuConfig;
use colt_ir::schedule::Machine;

/// f32 lanes and vector registers of this CPU's widest vector unit that
/// `-march=native` uses: AVX-512 (16, 32), AVX (8, 16), else SSE or NEON
/// (4, 16 and 4, 32).
pub fn vector_unit() -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return (16, 32);
        }
        if std::arch::is_x86_feature_detected!("avx") {
            return (8, 16);
        }
        (4, 16)
    }
    #[cfg(target_arch = "aarch64")]
    {
        (4, 32)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        (1, 16)
    }
}

impl CpuConfig {
    /// This CPU's vector unit and the measured cores.
    pub fn machine(&self) -> Machine {
        let (lanes, registers) = vector_unit();
        Machine { lanes, registers, cores: self.cores.len().max(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_has_a_vector_width_colt_ir_offers_and_the_measured_cores() {
        let config = CpuConfig { cores: vec![0, 1, 2], ..CpuConfig::default() };
        let machine = config.machine();
        assert!(colt_ir::schedule::VECTOR_WIDTHS.contains(&machine.lanes), "{machine:?}");
        assert_eq!(machine.cores, 3);
        // What this build machine's compiler will use.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(machine.lanes >= 8, std::arch::is_x86_feature_detected!("avx"));
    }
}
