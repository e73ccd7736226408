//! Choosing the OpenCL platform and device, and the context and profiling
//! queue on it.

use super::OpenClError;
use ocl::{core, flags, Context, Device, Platform, Queue};

/// Which device to use: a platform by index (as `colt devices` numbers
/// them) or by a part of its name (case-insensitive), the first when
/// `None`; on it, a device by index or by a part of its name, the first
/// when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceChoice {
    pub platform: Option<String>,
    pub device: Option<String>,
}

impl DeviceChoice {
    /// A platform by (part of) its name, its device `index`.
    pub fn named(platform: &str, index: usize) -> DeviceChoice {
        DeviceChoice { platform: Some(platform.to_string()), device: Some(index.to_string()) }
    }
}

/// A device with a context and an in-order profiling queue.
pub struct OpenClDevice {
    pub name: String,
    pub platform_name: String,
    /// The driver's version (`CL_DRIVER_VERSION`): part of the target's
    /// label, as a new driver can change every kernel's speed.
    pub driver_version: String,
    pub(crate) context: Context,
    pub(crate) queue: Queue,
    pub(crate) device: Device,
}

/// What `colt devices` shows of one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub index: usize,
    pub name: String,
    pub vendor: String,
    /// `GPU`, `CPU`, `ACCELERATOR`, ...
    pub kind: String,
    pub compute_units: u32,
    pub max_work_group: usize,
    pub local_memory_bytes: u64,
    pub global_memory_bytes: u64,
}

/// A platform and its devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformInfo {
    pub index: usize,
    pub name: String,
    pub version: String,
    pub devices: Vec<DeviceInfo>,
}

/// The index `wanted` names among `names`: a number is an index, anything
/// else the first name containing it (case-insensitive).
fn select(wanted: Option<&str>, names: &[String]) -> Option<usize> {
    let Some(wanted) = wanted else { return (!names.is_empty()).then_some(0) };
    if let Ok(index) = wanted.trim().parse::<usize>() {
        return (index < names.len()).then_some(index);
    }
    let wanted = wanted.to_lowercase();
    names.iter().position(|n| n.to_lowercase().contains(&wanted))
}

/// Held while platforms and devices are listed and opened: pocl's
/// first-use initialisation is not thread-safe (two threads opening the
/// device at once saw a platform with no devices).
static DISCOVERY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn discovery() -> std::sync::MutexGuard<'static, ()> {
    DISCOVERY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn platforms() -> Result<Vec<(Platform, String)>, OpenClError> {
    platform_count()?;
    // `core::get_platform_ids` rather than `Platform::list`, which panics
    // when the ICD loader finds no platform.
    let ids = core::get_platform_ids().map_err(|e| OpenClError::NoPlatform { message: e.to_string() })?;
    if ids.is_empty() {
        return Err(OpenClError::NoPlatform { message: "the ICD loader lists none".into() });
    }
    Ok(ids
        .into_iter()
        .map(Platform::new)
        .map(|p| {
            let name = p.name().unwrap_or_else(|e| format!("<unnamed: {e}>"));
            (p, name)
        })
        .collect())
}

fn devices_of(platform: Platform, platform_name: &str) -> Result<Vec<(Device, String)>, OpenClError> {
    let devices = Device::list_all(platform).map_err(|e| OpenClError::Setup {
        what: "device list".into(),
        device: platform_name.to_string(),
        message: e.to_string(),
    })?;
    Ok(devices
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let name = d.name().unwrap_or_else(|_| format!("{platform_name} device {i}"));
            (d, name)
        })
        .collect())
}

/// Every platform the ICD loader finds and its devices.
pub fn list_devices() -> Result<Vec<PlatformInfo>, OpenClError> {
    use ocl::enums::{DeviceInfo as Info, DeviceInfoResult as R, PlatformInfo as PInfo};
    let _discovery = discovery();
    let mut out = Vec::new();
    for (index, (platform, name)) in platforms()?.into_iter().enumerate() {
        let version = platform.info(PInfo::Version).map(|v| v.to_string()).unwrap_or_default();
        let mut devices = Vec::new();
        for (i, (device, device_name)) in devices_of(platform, &name)?.into_iter().enumerate() {
            let info = |what| device.info(what).ok();
            devices.push(DeviceInfo {
                index: i,
                name: device_name,
                vendor: device.vendor().unwrap_or_default(),
                kind: match info(Info::Type) {
                    Some(R::Type(t)) => {
                        format!("{t:?}").replace("DeviceType(", "").replace("DEVICE_TYPE_", "").replace(')', "")
                    }
                    _ => "?".into(),
                },
                compute_units: match info(Info::MaxComputeUnits) {
                    Some(R::MaxComputeUnits(n)) => n,
                    _ => 0,
                },
                max_work_group: device.max_wg_size().unwrap_or(0),
                local_memory_bytes: match info(Info::LocalMemSize) {
                    Some(R::LocalMemSize(n)) => n,
                    _ => 0,
                },
                global_memory_bytes: match info(Info::GlobalMemSize) {
                    Some(R::GlobalMemSize(n)) => n,
                    _ => 0,
                },
            });
        }
        out.push(PlatformInfo { index, name, version, devices });
    }
    Ok(out)
}

impl OpenClDevice {
    /// Opens the chosen device. No platform at all (no ICD loader
    /// configuration, no driver) is [`OpenClError::NoPlatform`], never a panic.
    pub fn open(choice: &DeviceChoice) -> Result<OpenClDevice, OpenClError> {
        let _discovery = discovery();
        let platforms = platforms()?;
        let names: Vec<String> = platforms.iter().map(|(_, n)| n.clone()).collect();
        let index = select(choice.platform.as_deref(), &names).ok_or_else(|| OpenClError::NoSuchPlatform {
            wanted: choice.platform.clone().unwrap_or_default(),
            available: names.clone(),
        })?;
        let (platform, platform_name) = platforms[index].clone();
        let devices = devices_of(platform, &platform_name)?;
        let device_names: Vec<String> = devices.iter().map(|(_, n)| n.clone()).collect();
        let index = select(choice.device.as_deref(), &device_names).ok_or_else(|| OpenClError::NoDevice {
            platform: platform_name.clone(),
            wanted: choice.device.clone().unwrap_or_else(|| "0".into()),
            available: device_names.clone(),
        })?;
        let (device, name) = devices[index].clone();
        let setup = |what: &'static str, device: &str| {
            let device = device.to_string();
            move |e: ocl::Error| OpenClError::Setup { what: what.to_string(), device, message: e.to_string() }
        };
        let context = Context::builder().platform(platform).devices(device).build().map_err(setup("context", &name))?;
        let queue = Queue::new(&context, device, Some(flags::QUEUE_PROFILING_ENABLE)).map_err(setup("queue", &name))?;
        let driver_version = match device.info(ocl::enums::DeviceInfo::DriverVersion) {
            Ok(v) => v.to_string().trim().to_string(),
            Err(_) => "unknown driver".to_string(),
        };
        Ok(OpenClDevice { name, platform_name, driver_version, context, queue, device })
    }

    /// The target this device measures for, its driver named.
    pub fn target(&self) -> crate::Target {
        crate::Target::opencl(self.platform_name.clone(), self.name.clone(), self.driver_version.clone())
    }

    /// The most bytes of `__local` memory a work-group may use.
    pub fn local_memory_bytes(&self) -> u64 {
        match self.device.info(ocl::enums::DeviceInfo::LocalMemSize) {
            Ok(ocl::enums::DeviceInfoResult::LocalMemSize(n)) => n,
            _ => 0,
        }
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
