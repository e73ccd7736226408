//! Where a job's kernels are measured, parsed once from its label: `cpu`
//! (this machine's CPU), or `opencl:PLATFORM / DEVICE` (an OpenCL device,
//! as `colt devices` names it). The label the tuning database stores names
//! the hardware itself — `cpu:MODEL [ISA features]` (see `identity.rs`),
//! `opencl:PLATFORM / DEVICE / DRIVER VERSION` — so records of two kinds of
//! part, or of two drivers, never mix. Records written before labels
//! named the hardware carry the bare `cpu`: an unknown CPU, never reused.

use colt_ir::schedule::Target as Space;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// This host's CPU.
    Cpu,
    /// An OpenCL device; `driver` is the driver version once the device is
    /// opened (a label a user types may leave it out).
    OpenCl { platform: String, device: String, driver: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetParseError {
    #[error("unknown target `{label}`: expected `cpu` or `opencl:PLATFORM / DEVICE`")]
    Unknown { label: String },
    #[error("target `{label}` is another CPU than this host's (`{here}`): its kernels are measured there")]
    OtherCpu { label: String, here: String },
}

impl Target {
    /// The OpenCL target of an opened device.
    pub fn opencl(platform: impl Into<String>, device: impl Into<String>, driver: impl Into<String>) -> Target {
        Target::OpenCl { platform: platform.into(), device: device.into(), driver: Some(driver.into()) }
    }

    /// Whether a job asking for `self` may run on `opened`: the same
    /// platform and device, and the same driver where `self` names one.
    pub fn is_served_by(&self, opened: &Target) -> bool {
        match (self, opened) {
            (Target::Cpu, Target::Cpu) => true,
            (
                Target::OpenCl { platform, device, driver },
                Target::OpenCl { platform: p, device: d, driver: opened_driver },
            ) => platform == p && device == d && (driver.is_none() || driver == opened_driver),
            _ => false,
        }
    }

    /// The schedule space its kernels come from.
    pub fn space(&self) -> Space {
        match self {
            Target::Cpu => Space::Cpu,
            Target::OpenCl { .. } => Space::OpenCl,
        }
    }

    /// The label the database stores: `cpu:MODEL [FEATURES]` or
    /// `opencl:PLATFORM / DEVICE / DRIVER`.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Cpu => write!(f, "cpu:{}", crate::identity::this_cpu()),
            Target::OpenCl { platform, device, driver: None } => write!(f, "opencl:{platform} / {device}"),
            Target::OpenCl { platform, device, driver: Some(driver) } => {
                write!(f, "opencl:{platform} / {device} / {driver}")
            }
        }
    }
}

impl FromStr for Target {
    type Err = TargetParseError;

    fn from_str(label: &str) -> Result<Target, TargetParseError> {
        if label == "cpu" {
            return Ok(Target::Cpu);
        }
        if let Some(identity) = label.strip_prefix("cpu:") {
            let here = crate::identity::this_cpu();
            return match identity == here {
                true => Ok(Target::Cpu),
                false => Err(TargetParseError::OtherCpu { label: label.to_string(), here: format!("cpu:{here}") }),
            };
        }
        let error = || TargetParseError::Unknown { label: label.to_string() };
        let rest = label.strip_prefix("opencl:").ok_or_else(error)?;
        // Platform and device names hold no " / " in practice.
        let parts: Vec<&str> = rest.split(" / ").collect();
        match parts[..] {
            [platform, device] => Ok(Target::OpenCl { platform: platform.into(), device: device.into(), driver: None }),
            [platform, device, driver] => Ok(Target::opencl(platform, device, driver)),
            _ => Err(error()),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Target, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_name_their_space() {
        let cpu = Target::Cpu.label();
        assert!(cpu.starts_with("cpu:") && cpu.len() > 6, "{cpu}");
        for label in [
            cpu.as_str(),
            "opencl:Portable Computing Language / cpu-haswell-AMD EPYC",
            "opencl:Portable Computing Language / cpu-haswell-AMD EPYC / 6.0+debian",
        ] {
            let target: Target = label.parse().unwrap();
            assert_eq!(target.label(), label);
        }
        assert_eq!("cpu".parse::<Target>().unwrap(), Target::Cpu);
        assert_eq!("cpu".parse::<Target>().unwrap().space(), Space::Cpu);
        assert_eq!("opencl:P / D".parse::<Target>().unwrap().space(), Space::OpenCl);
    }

    #[test]
    fn an_unknown_label_is_named() {
        for label in ["gpu", "opencl", "opencl:no-device", "opencl:a / b / c / d", "CPU"] {
            let e = label.parse::<Target>().unwrap_err();
            assert!(e.to_string().contains(&format!("`{label}`")), "{e}");
        }
    }

    #[test]
    fn another_hosts_cpu_is_refused_by_name() {
        let e = "cpu:Some Other Part [x86_64]".parse::<Target>().unwrap_err();
        assert!(matches!(e, TargetParseError::OtherCpu { .. }), "{e}");
        assert!(
            e.to_string().contains("`cpu:Some Other Part [x86_64]`") && e.to_string().contains(&Target::Cpu.label()),
            "{e}"
        );
    }

    #[test]
    fn a_device_label_without_a_driver_is_served_by_any_driver_of_that_device() {
        let opened = Target::opencl("P", "D", "1.2");
        assert!("opencl:P / D".parse::<Target>().unwrap().is_served_by(&opened));
        assert!("opencl:P / D / 1.2".parse::<Target>().unwrap().is_served_by(&opened));
        assert!(!"opencl:P / D / 1.3".parse::<Target>().unwrap().is_served_by(&opened));
        assert!(!"opencl:P / E".parse::<Target>().unwrap().is_served_by(&opened));
        assert!(!Target::Cpu.is_served_by(&opened) && Target::Cpu.is_served_by(&Target::Cpu));
    }
}
