//! The buffers a kernel runs on: 64-byte aligned (a cache line, and an
//! AVX-512 vector, so aligned vector loads never fault), inputs filled by
//! colt-ir's seeded generator, everything else poisoned with NaN before the
//! check run so an element the kernel forgets to write cannot pass.

use colt_ir::{BufferRole, Program};
use serde::{Deserialize, Serialize};

/// What a buffer starts as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fill {
    /// colt-ir's generator stream of the input called `name`.
    Input { name: String },
    /// NaN: temporaries, outputs and scratch.
    Poison,
    /// NaN too, on ordinary pages even when large: a buffer of gigabytes
    /// that is only streamed through (the machine-limits memory probe),
    /// where gathering huge pages made the kernel compact memory for
    /// seconds (12 s for 3.75 GiB on a build machine whose page cache
    /// filled its memory, 2.4 s without).
    PoisonPlainPages,
}

/// One buffer of the kernel ABI's `bufs[]`: length in floats and contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferSpec {
    pub len: usize,
    pub fill: Fill,
}

/// The `bufs[]` of a program's kernel: its buffers in declaration order,
/// then the scratch buffers the kernel asks for (`LoopNest::scratch`).
pub fn layout(program: &Program, scratch: &[usize]) -> Vec<BufferSpec> {
    let program_buffers = program.buffers().iter().map(|b| BufferSpec {
        len: b.len(),
        fill: match b.role {
            BufferRole::Input => Fill::Input { name: b.name.clone() },
            BufferRole::Temp | BufferRole::Output => Fill::Poison,
        },
    });
    program_buffers.chain(scratch.iter().map(|&len| BufferSpec { len, fill: Fill::Poison })).collect()
}

/// Indices in `bufs[]` of the program's outputs, the buffers checked.
pub fn output_indices(program: &Program) -> Vec<usize> {
    program.buffers_with_role(BufferRole::Output).map(|(id, _)| id.0).collect()
}

/// Buffers of at least this many bytes live on transparent huge pages.
const HUGE_FROM_BYTES: usize = 1 << 20;
/// The x86-64 huge page size.
const HUGE_PAGE: usize = 2 << 20;

/// A 64-byte aligned float buffer in its own anonymous mapping (zeroed).
///
/// Large buffers are aligned to 2 MiB and advised as huge pages: with 4 KiB
/// pages, every allocation lands on different physical pages, whose cache
/// sets and TLB reach differ, and repeated measurements of one kernel drift
/// by 10% and more on this kind of machine; huge pages give every
/// measurement the same layout (measured with `cargo bench -p colt-measure
/// --bench repeatability`).
pub struct AlignedBuffer {
    map: memmap2::MmapMut,
    /// Offset of the first float in `map`: 0, or up to the 2 MiB boundary.
    offset: usize,
    len: usize,
}

impl AlignedBuffer {
    /// At least one page even when empty, so the pointer is always valid.
    /// Fails when the system refuses the anonymous mapping (out of address
    /// space or memory).
    pub fn new(len: usize) -> std::io::Result<AlignedBuffer> {
        AlignedBuffer::with_pages(len, true)
    }

    /// As [`new`](Self::new), on ordinary pages unless `huge_if_large`.
    pub fn with_pages(len: usize, huge_if_large: bool) -> std::io::Result<AlignedBuffer> {
        let bytes = (len * 4).max(64);
        let huge = huge_if_large && bytes >= HUGE_FROM_BYTES;
        let slack = if huge { HUGE_PAGE } else { 0 };
        let map = memmap2::MmapMut::map_anon(bytes + slack)?;
        let offset = if huge {
            let address = map.as_ptr() as usize;
            let offset = address.next_multiple_of(HUGE_PAGE) - address;
            // Only a hint: without transparent huge pages the buffer still
            // works, with 4 KiB pages.
            #[cfg(target_os = "linux")]
            let _ = map.advise(memmap2::Advice::HugePage);
            offset
        } else {
            0
        };
        Ok(AlignedBuffer { map, offset, len })
    }

    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: the mapping holds `offset + 4 * len` bytes, is page-aligned
        // (so `offset` keeps 64-byte alignment) and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(self.offset).cast::<f32>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(self.offset).cast::<f32>(), self.len) }
    }

    pub fn as_mut_ptr(&mut self) -> *mut f32 {
        // SAFETY: `offset` is within the mapping (see `new`).
        unsafe { self.map.as_mut_ptr().add(self.offset).cast::<f32>() }
    }
}

/// All buffers of one kernel, with the pointer table passed as `bufs`.
pub struct KernelBuffers {
    specs: Vec<BufferSpec>,
    buffers: Vec<AlignedBuffer>,
    pointers: Vec<*mut f32>,
}

impl KernelBuffers {
    /// Allocates and fills every buffer (inputs from `seed`, the rest NaN).
    pub fn new(specs: Vec<BufferSpec>, seed: u64) -> std::io::Result<KernelBuffers> {
        let mut buffers = specs
            .iter()
            .map(|s| AlignedBuffer::with_pages(s.len, s.fill != Fill::PoisonPlainPages))
            .collect::<std::io::Result<Vec<_>>>()?;
        for (spec, buffer) in specs.iter().zip(&mut buffers) {
            if let Fill::Input { name } = &spec.fill {
                buffer.as_mut_slice().copy_from_slice(&colt_ir::data::fill(name, spec.len, seed));
            }
        }
        let pointers = buffers.iter_mut().map(AlignedBuffer::as_mut_ptr).collect();
        let mut kernel_buffers = KernelBuffers { specs, buffers, pointers };
        kernel_buffers.poison();
        Ok(kernel_buffers)
    }

    /// Fills every non-input buffer with NaN.
    pub fn poison(&mut self) {
        for (spec, buffer) in self.specs.iter().zip(&mut self.buffers) {
            if matches!(spec.fill, Fill::Poison | Fill::PoisonPlainPages) {
                buffer.as_mut_slice().fill(f32::NAN);
            }
        }
    }

    /// The first input whose contents differ from the generator's, if any:
    /// inputs are `const` in the ABI, and a kernel that writes one corrupts
    /// every later run.
    pub fn modified_input(&self, seed: u64) -> Option<usize> {
        self.specs.iter().zip(&self.buffers).position(|(spec, buffer)| match &spec.fill {
            Fill::Input { name } => buffer.as_slice() != colt_ir::data::fill(name, spec.len, seed).as_slice(),
            Fill::Poison | Fill::PoisonPlainPages => false,
        })
    }

    pub fn buffer(&self, index: usize) -> Option<&[f32]> {
        self.buffers.get(index).map(AlignedBuffer::as_slice)
    }

    /// The `bufs` table. The pointers stay valid while `self` lives: the
    /// lines' heap storage never moves after allocation.
    pub fn table(&self) -> *const *mut f32 {
        self.pointers.as_ptr()
    }
}
