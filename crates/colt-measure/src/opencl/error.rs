//! Why the OpenCL path failed.

#[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum OpenClError {
    #[error("no OpenCL platform is available ({message}); install an OpenCL driver (e.g. Debian's pocl-opencl-icd, which scripts/setup.sh installs)")]
    NoPlatform { message: String },
    #[error("no OpenCL platform matches `{wanted}` (platforms, by index from 0: {})", available.join(", "))]
    NoSuchPlatform { wanted: String, available: Vec<String> },
    #[error("OpenCL platform `{platform}` has no device `{wanted}` (devices, by index from 0: {})", available.join(", "))]
    NoDevice { platform: String, wanted: String, available: Vec<String> },
    #[error("OpenCL {what} on `{device}`: {message}")]
    Setup { what: String, device: String, message: String },
    #[error("OpenCL kernel `{kernel}` does not build on `{device}`: {log}")]
    Build { kernel: String, device: String, log: String },
    #[error("OpenCL kernel `{kernel}` cannot run launch `{entry}` on `{device}`: {message}")]
    Run { kernel: String, entry: String, device: String, message: String },
}
