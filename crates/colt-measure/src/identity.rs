//! The hardware identity in a CPU target's label: the CPU model and the
//! instruction-set features its kernels are compiled for
//! (`-march=native`), so that a record measured on one kind of part is
//! never reused on another. Two hosts "of the same kind" differ in
//! practice (Zen 4 and Zen 5 parts both report `AMD EPYC`; only Zen 5 has
//! `avx512vp2intersect` and `avxvnni`), and a kernel compiled for one may
//! be slower, or not run at all, on the other.
//!
//! `COLT_CPU_LABEL` replaces the detected identity: for a fleet whose
//! hypervisor hides the model, where an operator names the kind of part
//! itself, and for tests that play a second host.

use std::sync::OnceLock;

/// The variable that replaces the detected identity.
pub const CPU_LABEL_VAR: &str = "COLT_CPU_LABEL";

/// The x86 features, in this order, that change the code `-march=native`
/// emits for colt's f32 kernels: the vector widths, FMA, and the AVX-512
/// and VNNI/BF16 extensions that distinguish one generation from the
/// next.
#[cfg(target_arch = "x86_64")]
fn isa_features() -> Vec<&'static str> {
    // `is_x86_feature_detected!` takes a literal: one arm per feature.
    macro_rules! detected {
        ($($feature:tt),*) => {
            [$(($feature, std::arch::is_x86_feature_detected!($feature))),*]
        };
    }
    let detected = detected!(
        "sse4.2",
        "avx",
        "avx2",
        "fma",
        "avx512f",
        "avx512dq",
        "avx512bw",
        "avx512vl",
        "avx512vnni",
        "avx512bf16",
        "avx512fp16",
        "avx512vp2intersect",
        "avxvnni"
    );
    let mut features = vec!["x86_64"];
    features.extend(detected.iter().filter(|(_, on)| *on).map(|(name, _)| *name));
    features
}

#[cfg(not(target_arch = "x86_64"))]
fn isa_features() -> Vec<&'static str> {
    vec![std::env::consts::ARCH]
}

/// The CPU's model as the kernel reports it (`model name` on x86, `Model`
/// or `CPU part` elsewhere), with runs of blanks folded.
fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = ["model name", "Model", "CPU part"].iter().find_map(|key| {
        info.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == *key && !v.trim().is_empty()).then(|| v.split_whitespace().collect::<Vec<_>>().join(" "))
        })
    });
    model.unwrap_or_else(|| "unknown CPU".to_string())
}

/// The identity `model [features]` of a CPU, as the label's text after
/// `cpu:`. Brackets and control characters are dropped from the model so
/// that the label parses back.
pub fn describe(model: &str, features: &[&str]) -> String {
    let model: String = model.chars().filter(|c| !c.is_control() && *c != '[' && *c != ']').collect();
    format!("{} [{}]", model.trim(), features.join(" "))
}

/// This host's CPU identity, read once: `COLT_CPU_LABEL` if set and not
/// blank, else the detected model and features.
pub fn this_cpu() -> &'static str {
    static IDENTITY: OnceLock<String> = OnceLock::new();
    IDENTITY.get_or_init(|| match std::env::var(CPU_LABEL_VAR) {
        Ok(label) if !label.trim().is_empty() => {
            label.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string()
        }
        _ => describe(&cpu_model(), &isa_features()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_names_the_model_and_the_isa_the_compiler_targets() {
        if std::env::var_os(CPU_LABEL_VAR).is_some() {
            return assert!(!this_cpu().is_empty());
        }
        let identity = this_cpu();
        let model = cpu_model();
        assert!(identity.starts_with(&format!("{} [", model.replace(['[', ']'], ""))), "{identity}");
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(identity.contains(" avx512f"), std::arch::is_x86_feature_detected!("avx512f"), "{identity}");
            assert_eq!(identity.contains(" avx2"), std::arch::is_x86_feature_detected!("avx2"), "{identity}");
        }
    }

    #[test]
    fn two_generations_of_one_model_name_differ() {
        let zen4 = describe("AMD EPYC", &["x86_64", "avx2", "fma", "avx512f"]);
        let zen5 = describe("AMD EPYC", &["x86_64", "avx2", "fma", "avx512f", "avx512vp2intersect", "avxvnni"]);
        assert_ne!(zen4, zen5);
        assert_eq!(describe("  Odd [model]\n ", &["x86_64"]), "Odd model [x86_64]");
    }
}
