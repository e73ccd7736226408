//! Reading a built image: the ELF shared object the builder produced,
//! checked and flattened into the bytes the loader copies into executable
//! memory.
//!
//! The image format is a position-independent ELF shared object linked
//! with `-nostdlib` (see [`crate::compiler::IMAGE_FLAGS`]). Its `PT_LOAD`
//! segments are laid out at their virtual addresses relative to one base,
//! exactly as a dynamic loader would, so `.text`'s PC-relative references
//! to `.rodata` (float constants, jump tables) hold without any fix-up. The
//! one dynamic relocation kind a PIC image of plain C can still need,
//! `R_X86_64_RELATIVE` (an absolute pointer in a constant table, `*place =
//! base + addend`), is applied by the loader; any other relocation, any
//! undefined symbol (an import: `memset`, `expf`, ...), thread-local storage
//! or writable data (the ABI forbids mutable global state) makes the image
//! refused with an [`ImageError`] that names it.

use object::elf;
use object::read::{
    Object, ObjectSection, ObjectSegment, ObjectSymbol, ObjectSymbolTable, RelocationTarget, SectionFlags, SegmentFlags,
};
use object::{Architecture, BinaryFormat, ObjectKind, RelocationFlags};
use serde::{Deserialize, Serialize};

/// The exported function every kernel defines (colt-ir's kernel ABI).
pub const ENTRY_SYMBOL: &str = "colt_kernel";

/// Images larger than this are refused before anything is allocated: a
/// kernel is kilobytes, and a corrupt header could claim gigabytes.
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;

/// Sections that are writable only so that relocations can be applied
/// (the linker's tables, and `.data.rel.ro`: constant tables of pointers);
/// the loader maps the whole image read-only once it has relocated it.
const LINKER_WRITABLE: &[&str] = &[".dynamic", ".got", ".got.plt", ".init_array", ".fini_array", ".data.rel.ro"];

/// Why an image cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ImageError {
    #[error("not a readable ELF image: {0}")]
    NotElf(String),
    #[error("the image is a {found}, not an x86-64 ELF shared object")]
    WrongKind { found: String },
    #[error("the image imports `{symbol}`, which the loader cannot provide (kernels make no library calls)")]
    UnresolvedImport { symbol: String },
    #[error("the image needs relocation type {r_type} at offset {offset:#x}{}; only R_X86_64_RELATIVE is applied",
        symbol.as_ref().map(|s| format!(" against `{s}`")).unwrap_or_default())]
    UnsupportedRelocation { r_type: u32, offset: u64, symbol: Option<String> },
    #[error("the image has writable data in `{section}` ({bytes} bytes); kernels may not keep mutable global state")]
    MutableGlobal { section: String, bytes: u64 },
    #[error("the image uses thread-local storage (`{section}`)")]
    ThreadLocal { section: String },
    #[error("the image defines no `{ENTRY_SYMBOL}` function")]
    NoEntry,
    #[error("the image spans {bytes} bytes, more than the {MAX_IMAGE_BYTES} allowed")]
    TooLarge { bytes: u64 },
    #[error("a segment or relocation lies outside the image: {0}")]
    Malformed(String),
}

/// A checked image: its loaded bytes from virtual address 0, the places
/// to relocate, and the entry point's offset. Plain data, so it can be
/// sent to a worker process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelImage {
    /// The `PT_LOAD` segments at their virtual addresses, gaps and `.bss`
    /// zero-filled.
    pub memory: Vec<u8>,
    /// `(offset, addend)`: the 8 bytes at `offset` become `base + addend`.
    pub relative: Vec<(u64, i64)>,
    /// Offset of [`ENTRY_SYMBOL`] in `memory`.
    pub entry: u64,
}

impl KernelImage {
    /// Checks and flattens an ELF image.
    pub fn parse(elf_bytes: &[u8]) -> Result<KernelImage, ImageError> {
        let file = object::File::parse(elf_bytes).map_err(|e| ImageError::NotElf(e.to_string()))?;
        if file.format() != BinaryFormat::Elf
            || file.architecture() != Architecture::X86_64
            || file.kind() != ObjectKind::Dynamic
        {
            return Err(ImageError::WrongKind {
                found: format!("{:?} {:?} {:?}", file.format(), file.architecture(), file.kind()),
            });
        }
        for symbol in file.dynamic_symbols() {
            if symbol.is_undefined() {
                let name = symbol.name().unwrap_or("?");
                if !name.is_empty() {
                    return Err(ImageError::UnresolvedImport { symbol: name.to_string() });
                }
            }
        }
        check_sections(&file)?;
        let memory = flatten_segments(&file)?;
        let relative = relative_relocations(&file, memory.len() as u64)?;
        let entry = file
            .dynamic_symbols()
            .find(|s| s.name() == Ok(ENTRY_SYMBOL) && s.is_definition())
            .map(|s| s.address())
            .filter(|&address| address < memory.len() as u64)
            .ok_or(ImageError::NoEntry)?;
        Ok(KernelImage { memory, relative, entry })
    }
}

fn check_sections(file: &object::File<'_>) -> Result<(), ImageError> {
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else { continue };
        let name = section.name().unwrap_or("?").to_string();
        if sh_flags & u64::from(elf::SHF_TLS) != 0 {
            return Err(ImageError::ThreadLocal { section: name });
        }
        let writable = u64::from(elf::SHF_WRITE | elf::SHF_ALLOC);
        if sh_flags & writable == writable && section.size() > 0 && !LINKER_WRITABLE.contains(&name.as_str()) {
            return Err(ImageError::MutableGlobal { section: name, bytes: section.size() });
        }
    }
    Ok(())
}

fn flatten_segments(file: &object::File<'_>) -> Result<Vec<u8>, ImageError> {
    let mut end = 0u64;
    for segment in file.segments() {
        let top = segment.address().checked_add(segment.size()).ok_or_else(|| {
            ImageError::Malformed(format!("segment at {:#x} of {} bytes overflows", segment.address(), segment.size()))
        })?;
        end = end.max(top);
    }
    if end > MAX_IMAGE_BYTES {
        return Err(ImageError::TooLarge { bytes: end });
    }
    let mut memory = vec![0u8; end as usize];
    for segment in file.segments() {
        if let SegmentFlags::Elf { p_flags } = segment.flags() {
            if p_flags & elf::PF_X != 0 && p_flags & elf::PF_W != 0 {
                return Err(ImageError::MutableGlobal {
                    section: "a writable code segment".into(),
                    bytes: segment.size(),
                });
            }
        }
        let data = segment.data().map_err(|e| ImageError::Malformed(e.to_string()))?;
        let start = segment.address() as usize;
        // `end` bounds every segment's address + size, and the file data of
        // a segment is never longer than its memory size.
        let place = memory
            .get_mut(start..start + data.len())
            .ok_or_else(|| ImageError::Malformed(format!("segment at {start:#x} has more data than memory")))?;
        place.copy_from_slice(data);
    }
    Ok(memory)
}

fn relative_relocations(file: &object::File<'_>, len: u64) -> Result<Vec<(u64, i64)>, ImageError> {
    let mut relative = Vec::new();
    let Some(relocations) = file.dynamic_relocations() else { return Ok(relative) };
    for (offset, relocation) in relocations {
        let r_type = match relocation.flags() {
            RelocationFlags::Elf { r_type } => r_type,
            other => return Err(ImageError::Malformed(format!("non-ELF relocation {other:?}"))),
        };
        if r_type == elf::R_X86_64_RELATIVE && relocation.target() == RelocationTarget::Absolute {
            if offset.checked_add(8).is_none_or(|end| end > len) {
                return Err(ImageError::Malformed(format!("relocation at {offset:#x} outside the image")));
            }
            relative.push((offset, relocation.addend()));
            continue;
        }
        let symbol = match relocation.target() {
            RelocationTarget::Symbol(index) => file
                .dynamic_symbol_table()
                .and_then(|table| table.symbol_by_index(index).ok())
                .and_then(|s| s.name().ok().map(str::to_string)),
            _ => None,
        };
        return Err(ImageError::UnsupportedRelocation { r_type, offset, symbol });
    }
    Ok(relative)
}
