//! Choosing the OpenCL platform and device, and the context and profiling
//! queue on it.

use super::OpenClError;
use ocl::{core, flags, Context, Device, Platform, Queue};

/// Which device to use: the first platform whose name contains `platform`
/// (case-insensitive; any platform when `None`), and its device `device`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    pub platform: Option<String>,
    pub device: usize,
}

/// A device with a context and an in-order profiling queue.
pub struct OpenClDevice {
    pub name: String,
    pub platform_name: String,
    pub(crate) context: Context,
    pub(crate) queue: Queue,
    pub(crate) device: Device,
}

impl OpenClDevice {
    /// Opens the chosen device. No platform at all (no ICD loader
    /// configuration, no driver) is [`OpenClError::NoPlatform`], never a panic.
    pub fn open(choice: &DeviceChoice) -> Result<OpenClDevice, OpenClError> {
        platform_count()?;
        // `core::get_platform_ids` rather than `Platform::list`, which panics
        // when the ICD loader finds no platform.
        let ids = core::get_platform_ids().map_err(|e| OpenClError::NoPlatform { message: e.to_string() })?;
        if ids.is_empty() {
            return Err(OpenClError::NoPlatform { message: "the ICD loader lists none".into() });
        }
        let platforms: Vec<(Platform, String)> = ids
            .into_iter()
            .map(Platform::new)
            .map(|p| {
                let name = p.name().unwrap_or_else(|e| format!("<unnamed: {e}>"));
                (p, name)
            })
            .collect();
        let (platform, platform_name) = match &choice.platform {
            // `ids` was checked non-empty above, and `platforms` maps it one to one.
            None => platforms[0].clone(),
            Some(wanted) => platforms
                .iter()
                .find(|(_, name)| name.to_lowercase().contains(&wanted.to_lowercase()))
                .cloned()
                .ok_or_else(|| OpenClError::NoSuchPlatform {
                    wanted: wanted.clone(),
                    available: platforms.iter().map(|(_, n)| n.clone()).collect(),
                })?,
        };
        let setup = |what: &'static str, device: &str| {
            let device = device.to_string();
            move |e: ocl::Error| OpenClError::Setup { what, device, message: e.to_string() }
        };
        let devices = Device::list_all(platform).map_err(setup("device list", &platform_name))?;
        let device = *devices.get(choice.device).ok_or(OpenClError::NoDevice {
            platform: platform_name.clone(),
            index: choice.device,
            count: devices.len(),
        })?;
        let name = device.name().unwrap_or_else(|_| format!("{platform_name} device {}", choice.device));
        let context = Context::builder().platform(platform).devices(device).build().map_err(setup("context", &name))?;
        let queue = Queue::new(&context, device, Some(flags::QUEUE_PROFILING_ENABLE)).map_err(setup("queue", &name))?;
        Ok(OpenClDevice { name, platform_name, context, queue, device })
    }
}

/// The ICD loader's platform count, asked directly first: with no platform
/// the loader answers `CL_PLATFORM_NOT_FOUND_KHR`, on which
/// `core::get_platform_ids` sleeps and retries for 10 seconds.
fn platform_count() -> Result<u32, OpenClError> {
    /// `CL_PLATFORM_NOT_FOUND_KHR` of the `cl_khr_icd` extension.
    const PLATFORM_NOT_FOUND: i32 = -1001;
    let mut count: ocl::ffi::cl_uint = 0;
    // SAFETY: asks for the count only (no list pointer), into a local.
    let status = unsafe { ocl::ffi::clGetPlatformIDs(0, std::ptr::null_mut(), &mut count) };
    match status {
        PLATFORM_NOT_FOUND => Err(OpenClError::NoPlatform { message: "the ICD loader finds no vendor".into() }),
        0 if count == 0 => Err(OpenClError::NoPlatform { message: "the ICD loader lists none".into() }),
        0 => Ok(count),
        status => Err(OpenClError::NoPlatform { message: format!("clGetPlatformIDs returned {status}") }),
    }
}
