//! The loader: a [`KernelImage`] copied into an anonymous memory map,
//! relocated, made executable, and called through the kernel ABI. No
//! `dlopen`: nothing runs at load time, nothing is registered with the
//! process, and unmapping is dropping.

use crate::image::KernelImage;
use std::ffi::{c_int, c_void};

/// `typedef void (*colt_barrier_fn)(void *ctx);`
pub type BarrierFn = unsafe extern "C" fn(ctx: *mut c_void);

/// `void colt_kernel(float *const *bufs, int task, int ntasks,
/// colt_barrier_fn barrier, void *barrier_ctx);`
pub type KernelFn = unsafe extern "C" fn(
    bufs: *const *mut f32,
    task: c_int,
    ntasks: c_int,
    barrier: BarrierFn,
    barrier_ctx: *mut c_void,
);

/// Why an image could not be mapped.
#[derive(Debug, thiserror::Error)]
#[error("cannot map the kernel image ({bytes} bytes) as executable memory: {source}")]
pub struct MapError {
    pub bytes: usize,
    pub source: std::io::Error,
}

/// A kernel in executable memory; unmapped when dropped.
pub struct LoadedKernel {
    map: memmap2::Mmap,
    entry: KernelFn,
}

impl LoadedKernel {
    pub fn load(image: &KernelImage) -> Result<LoadedKernel, MapError> {
        let bytes = image.memory.len();
        let map_error = |source| MapError { bytes, source };
        let mut map = memmap2::MmapMut::map_anon(bytes.max(1)).map_err(map_error)?;
        map[..bytes].copy_from_slice(&image.memory);
        let base = map.as_ptr() as u64;
        for &(offset, addend) in &image.relative {
            // `KernelImage::parse` checked offset + 8 <= memory.len().
            let place = offset as usize..offset as usize + 8;
            map[place].copy_from_slice(&base.wrapping_add_signed(addend).to_ne_bytes());
        }
        let map = map.make_exec().map_err(map_error)?;
        // SAFETY: `entry` lies inside the mapping (checked by `parse`), which
        // is now readable and executable and lives as long as `self`; the
        // image was compiled for the kernel ABI, whose signature `KernelFn`
        // spells. Whether its code is correct is what the worker process
        // isolates.
        let entry = unsafe { std::mem::transmute::<*const u8, KernelFn>(map.as_ptr().add(image.entry as usize)) };
        Ok(LoadedKernel { map, entry })
    }

    /// Calls the kernel as task `task` of `ntasks`.
    ///
    /// # Safety
    /// The kernel is arbitrary machine code: `bufs` must hold as many
    /// buffers, each as long, as the kernel was generated for, and the
    /// caller must run all `ntasks` tasks at once with one shared barrier.
    pub unsafe fn call(
        &self,
        bufs: *const *mut f32,
        task: usize,
        ntasks: usize,
        barrier: BarrierFn,
        barrier_ctx: *mut c_void,
    ) {
        (self.entry)(bufs, task as c_int, ntasks as c_int, barrier, barrier_ctx)
    }

    /// Size of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
