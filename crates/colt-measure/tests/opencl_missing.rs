//! With no OpenCL platform at all, opening a device is a clear error, not
//! a panic. Its own test binary: the ICD loader reads its configuration
//! once per process, so the environment must be set before any OpenCL call.

use colt_measure::opencl::{DeviceChoice, OpenClDevice, OpenClError};

#[test]
fn no_platform_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    // ocl-icd looks for `*.icd` vendor files in OCL_ICD_VENDORS: an empty
    // directory means no platform.
    std::env::set_var("OCL_ICD_VENDORS", empty.path());
    match OpenClDevice::open(&DeviceChoice::default()) {
        Err(e @ OpenClError::NoPlatform { .. }) => assert!(e.to_string().contains("pocl-opencl-icd"), "{e}"),
        Err(other) => panic!("expected NoPlatform, got {other}"),
        Ok(device) => panic!("found {} with no vendors configured", device.name),
    }
}
