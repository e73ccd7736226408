//! Where a job's kernels are measured, parsed once from its label: `cpu`
//! (this machine's CPU), or `opencl:PLATFORM / DEVICE` (an OpenCL device,
//! as `colt devices` names it). The label is what the tuning database
//! stores, so records of two devices never mix.

use colt_ir::schedule::Target as Space;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Cpu,
    OpenCl { platform: String, device: String },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{label}`: expected `cpu` or `opencl:PLATFORM / DEVICE`")]
pub struct TargetParseError {
    pub label: String,
}

impl Target {
    /// The OpenCL target of an opened device.
    pub fn opencl(platform: impl Into<String>, device: impl Into<String>) -> Target {
        Target::OpenCl { platform: platform.into(), device: device.into() }
    }

    /// The schedule space its kernels come from.
    pub fn space(&self) -> Space {
        match self {
            Target::Cpu => Space::Cpu,
            Target::OpenCl { .. } => Space::OpenCl,
        }
    }

    /// The label the database stores: `cpu` or `opencl:PLATFORM / DEVICE`.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Cpu => f.write_str("cpu"),
            Target::OpenCl { platform, device } => write!(f, "opencl:{platform} / {device}"),
        }
    }
}

impl FromStr for Target {
    type Err = TargetParseError;

    fn from_str(label: &str) -> Result<Target, TargetParseError> {
        if label == "cpu" {
            return Ok(Target::Cpu);
        }
        let error = || TargetParseError { label: label.to_string() };
        let rest = label.strip_prefix("opencl:").ok_or_else(error)?;
        // Device names hold no " / " in practice; a platform name that did
        // would still round-trip its label (Display joins with the first).
        let (platform, device) = rest.split_once(" / ").ok_or_else(error)?;
        Ok(Target::opencl(platform, device))
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
        for label in ["cpu", "opencl:Portable Computing Language / cpu-haswell-AMD EPYC"] {
            let target: Target = label.parse().unwrap();
            assert_eq!(target.label(), label);
        }
        assert_eq!("cpu".parse::<Target>().unwrap().space(), Space::Cpu);
        assert_eq!("opencl:P / D".parse::<Target>().unwrap().space(), Space::OpenCl);
    }

    #[test]
    fn an_unknown_label_is_named() {
        for label in ["gpu", "opencl", "opencl:no-device", "CPU"] {
            let e = label.parse::<Target>().unwrap_err();
            assert!(e.to_string().contains(&format!("`{label}`")), "{e}");
        }
    }
}
