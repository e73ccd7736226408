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

/// 16 floats on a 64-byte boundary: a `Vec` of these is an aligned float
/// array without a hand-written allocator.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

const LINE: usize = 16;

/// A 64-byte aligned float buffer.
pub struct AlignedBuffer {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedBuffer {
    /// At least one line even when empty, so the pointer is always valid.
    pub fn new(len: usize) -> AlignedBuffer {
        AlignedBuffer { lines: vec![Line([0.0; LINE]); len.div_ceil(LINE).max(1)], len }
    }

    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: `Line` is `repr(C)` around `[f32; 16]`, size 64 = 16 * 4,
        // so the lines are `16 * lines.len() >= len` contiguous floats.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }

    pub fn as_mut_ptr(&mut self) -> *mut f32 {
        self.lines.as_mut_ptr().cast::<f32>()
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
    pub fn new(specs: Vec<BufferSpec>, seed: u64) -> KernelBuffers {
        let mut buffers: Vec<AlignedBuffer> = specs.iter().map(|s| AlignedBuffer::new(s.len)).collect();
        for (spec, buffer) in specs.iter().zip(&mut buffers) {
            if let Fill::Input { name } = &spec.fill {
                buffer.as_mut_slice().copy_from_slice(&colt_ir::data::fill(name, spec.len, seed));
            }
        }
        let pointers = buffers.iter_mut().map(AlignedBuffer::as_mut_ptr).collect();
        let mut kernel_buffers = KernelBuffers { specs, buffers, pointers };
        kernel_buffers.poison();
        kernel_buffers
    }

    /// Fills every non-input buffer with NaN.
    pub fn poison(&mut self) {
        for (spec, buffer) in self.specs.iter().zip(&mut self.buffers) {
            if spec.fill == Fill::Poison {
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
            Fill::Poison => false,
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
