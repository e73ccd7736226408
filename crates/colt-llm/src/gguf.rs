//! A GGUF reader that validates a file before llama.cpp sees it.
//!
//! llama.cpp trusts the files it maps: garbage can make it abort the whole
//! process instead of returning an error. So colt reads the header, every
//! metadata entry and every tensor description itself, bounds-checks each
//! length against the file's size before reading or allocating, and checks
//! that the tensor data the header promises lies inside the file (which is
//! how a truncated download shows up); `ModelInfo::read` then checks the
//! hyperparameters llama.cpp asserts on. Tensor byte sizes come from the
//! linked ggml itself, so they always agree with the llama.cpp that loads
//! the file. Format: <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>.

use crate::error::ModelError;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// What GGUF says when `general.alignment` is absent.
const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml tensors have at most this many dimensions (`GGML_MAX_DIMS`).
const MAX_DIMS: u32 = 4;

/// A metadata value. Arrays keep only their length: colt reads no array
/// (the big ones are the tokenizer's vocabulary, which llama.cpp reads).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MetaValue {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array { len: u64 },
}

impl MetaValue {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            MetaValue::Float(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::Uint(v) => Some(v),
            MetaValue::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
}

/// One tensor's description in the header.
#[derive(Debug, Clone)]
pub(crate) struct TensorInfo {
    pub dims: Vec<u64>,
}

impl TensorInfo {
    pub(crate) fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A validated GGUF header.
#[derive(Debug)]
pub(crate) struct GgufHeader {
    pub metadata: BTreeMap<String, MetaValue>,
    pub tensors: Vec<TensorInfo>,
    pub file_bytes: u64,
}

impl GgufHeader {
    /// Reads and validates the header of the GGUF file at `path`.
    pub(crate) fn read(path: &Path) -> Result<GgufHeader, ModelError> {
        let not_found = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::NotFound => ModelError::NotFound { path: path.to_path_buf() },
            _ => ModelError::Io { path: path.to_path_buf(), source },
        };
        // Before opening: `open` of a FIFO blocks until a writer comes.
        if !std::fs::metadata(path).map_err(not_found)?.is_file() {
            let source = std::io::Error::other("not a regular file");
            return Err(ModelError::Io { path: path.to_path_buf(), source });
        }
        let file = File::open(path).map_err(not_found)?;
        let len = file.metadata().map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?.len();
        if len == 0 {
            return Err(ModelError::Empty { path: path.to_path_buf() });
        }
        let mut cursor = Cursor { reader: BufReader::with_capacity(1 << 16, file), pos: 0, len, path: path.into() };
        cursor.header()
    }
}

struct Cursor {
    reader: BufReader<File>,
    pos: u64,
    len: u64,
    path: PathBuf,
}

impl Cursor {
    fn header(&mut self) -> Result<GgufHeader, ModelError> {
        let magic = self.len.min(4) as usize;
        let mut head = [0u8; 4];
        self.reader.read_exact(&mut head[..magic]).map_err(|e| self.io(e))?;
        if head[..magic] != b"GGUF"[..magic] {
            return Err(ModelError::NotGguf { path: self.path.clone() });
        }
        self.need(4 - magic as u64, "the magic number")?;
        self.pos = 4;
        let version = self.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(ModelError::UnsupportedVersion { path: self.path.clone(), version });
        }
        let n_tensors = self.u64("the tensor count")?;
        let n_metadata = self.u64("the metadata count")?;
        // Each entry takes at least 8 + 4 bytes and each tensor at least
        // 8 + 4 + 4 + 8: a count beyond the file's size is garbage, and
        // rejecting it first keeps allocations bounded by the file.
        self.plausible(n_metadata, 12, "metadata entries")?;
        self.plausible(n_tensors, 24, "tensors")?;

        let mut metadata = BTreeMap::new();
        for _ in 0..n_metadata {
            let at = self.pos;
            let key = self.string("a metadata key")?;
            let value_type = self.u32("a metadata type")?;
            let value = self.value(value_type, &key)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(self.malformed(at, format!("duplicate metadata key `{key}`")));
            }
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_u64() {
                Some(a) if a > 0 && a.is_power_of_two() => a,
                _ => return Err(self.malformed(self.pos, format!("general.alignment is {v:?}, not a power of two"))),
            },
        };

        let mut tensors = Vec::with_capacity(n_tensors as usize);
        let mut data_bytes = 0u64;
        for _ in 0..n_tensors {
            let at = self.pos;
            let name = self.string("a tensor name")?;
            let n_dims = self.u32("a tensor's dimension count")?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(self.malformed(at, format!("tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS})")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(self.u64("a tensor dimension")?);
            }
            let ggml_type = self.u32("a tensor type")?;
            let offset = self.u64("a tensor offset")?;
            let bytes = tensor_bytes(&dims, ggml_type)
                .map_err(|reason| self.malformed(at, format!("tensor `{name}`: {reason}")))?;
            if !offset.is_multiple_of(alignment) {
                return Err(
                    self.malformed(at, format!("tensor `{name}` is at offset {offset}, not a multiple of {alignment}"))
                );
            }
            let end = offset
                .checked_add(bytes)
                .ok_or_else(|| self.malformed(at, format!("tensor `{name}` ends past 2^64")))?;
            data_bytes = data_bytes.max(end);
            tensors.push(TensorInfo { dims });
        }
        let data_start = self.pos.div_ceil(alignment) * alignment;
        let needed = data_start.saturating_add(data_bytes);
        if needed > self.len {
            return Err(ModelError::Truncated {
                path: self.path.clone(),
                what: format!("the data of {n_tensors} tensors"),
                needed,
                actual: self.len,
            });
        }
        Ok(GgufHeader { metadata, tensors, file_bytes: self.len })
    }

    fn value(&mut self, value_type: u32, key: &str) -> Result<MetaValue, ModelError> {
        let what = "a metadata value";
        Ok(match value_type {
            0 => MetaValue::Uint(self.bytes::<1>(what)?[0] as u64),
            1 => MetaValue::Int(self.bytes::<1>(what)?[0] as i8 as i64),
            2 => MetaValue::Uint(u16::from_le_bytes(self.bytes(what)?) as u64),
            3 => MetaValue::Int(i16::from_le_bytes(self.bytes(what)?) as i64),
            4 => MetaValue::Uint(self.u32(what)? as u64),
            5 => MetaValue::Int(i32::from_le_bytes(self.bytes(what)?) as i64),
            6 => MetaValue::Float(f32::from_le_bytes(self.bytes(what)?) as f64),
            7 => MetaValue::Bool(self.bytes::<1>(what)?[0] != 0),
            8 => MetaValue::Str(self.string(what)?),
            9 => {
                let at = self.pos;
                let item_type = self.u32("an array's item type")?;
                let len = self.u64("an array's length")?;
                match item_type {
                    8 => {
                        // Nothing is allocated: each string's length is
                        // checked against the file as it is skipped.
                        for _ in 0..len {
                            let n = self.u64("a string's length")?;
                            self.skip(n, "a string")?;
                        }
                    }
                    9 => return Err(self.malformed(at, format!("`{key}` is an array of arrays"))),
                    t => {
                        let size =
                            scalar_size(t).ok_or_else(|| self.malformed(at, format!("`{key}` has item type {t}")))?;
                        self.skip(len.saturating_mul(size), "an array")?;
                    }
                }
                MetaValue::Array { len }
            }
            10 => MetaValue::Uint(self.u64(what)?),
            11 => MetaValue::Int(i64::from_le_bytes(self.bytes(what)?)),
            12 => MetaValue::Float(f64::from_le_bytes(self.bytes(what)?)),
            t => return Err(self.malformed(self.pos - 4, format!("`{key}` has unknown value type {t}"))),
        })
    }

    fn need(&self, n: u64, what: &str) -> Result<(), ModelError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.len => Ok(()),
            end => Err(ModelError::Truncated {
                path: self.path.clone(),
                what: what.to_string(),
                needed: end.unwrap_or(u64::MAX),
                actual: self.len,
            }),
        }
    }

    /// A count is checked before anything is allocated for it: each item
    /// takes at least `min_bytes`, so a count the rest of the file cannot
    /// hold means a cut (or garbage) header.
    fn plausible(&self, count: u64, min_bytes: u64, what: &str) -> Result<(), ModelError> {
        let needed = self.pos.saturating_add(count.saturating_mul(min_bytes));
        if needed > self.len {
            let what = format!("{count} {what}");
            return Err(ModelError::Truncated { path: self.path.clone(), what, needed, actual: self.len });
        }
        Ok(())
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ModelError> {
        self.need(N as u64, what)?;
        let mut buf = [0u8; N];
        self.reader.read_exact(&mut buf).map_err(|e| self.io(e))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        self.bytes(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, ModelError> {
        self.bytes(what).map(u64::from_le_bytes)
    }

    fn string(&mut self, what: &str) -> Result<String, ModelError> {
        let at = self.pos;
        let n = self.u64(what)?;
        self.need(n, what)?;
        let mut buf = vec![0u8; n as usize];
        self.reader.read_exact(&mut buf).map_err(|e| self.io(e))?;
        self.pos += n;
        String::from_utf8(buf).map_err(|_| self.malformed(at, format!("{what} is not UTF-8")))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), ModelError> {
        self.need(n, what)?;
        let n = i64::try_from(n).map_err(|_| self.malformed(self.pos, format!("{what} is too long")))?;
        self.reader.seek_relative(n).map_err(|e| self.io(e))?;
        self.pos += n as u64;
        Ok(())
    }

    fn io(&self, source: std::io::Error) -> ModelError {
        ModelError::Io { path: self.path.clone(), source }
    }

    fn malformed(&self, offset: u64, reason: String) -> ModelError {
        ModelError::Malformed { path: self.path.clone(), offset, reason }
    }
}

/// Bytes of one scalar array item of GGUF type `t`.
fn scalar_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// Bytes of a tensor of ggml type `ggml_type` and shape `dims`, as the linked
/// ggml computes them.
fn tensor_bytes(dims: &[u64], ggml_type: u32) -> Result<u64, String> {
    if ggml_type >= llama_cpp_sys_2::GGML_TYPE_COUNT {
        return Err(format!("unknown ggml type {ggml_type}"));
    }
    // SAFETY: `ggml_type` is below GGML_TYPE_COUNT, the length of ggml's
    // type table that both functions index.
    let (block, block_bytes) =
        unsafe { (llama_cpp_sys_2::ggml_blck_size(ggml_type), llama_cpp_sys_2::ggml_type_size(ggml_type)) };
    // Removed types (the old Q4_2, the repacked Q4_0_4_4, ...) have block size 0.
    let block =
        u64::try_from(block).ok().filter(|&b| b > 0).ok_or(format!("ggml type {ggml_type} is no longer supported"))?;
    // The reader refuses tensors with no dimension, so `dims[0]` exists.
    if !dims[0].is_multiple_of(block) {
        return Err(format!(
            "row length {} is not a multiple of the block size {block} of ggml type {ggml_type}",
            dims[0]
        ));
    }
    let bytes =
        || dims[1..].iter().try_fold((dims[0] / block).checked_mul(block_bytes as u64)?, |acc, &d| acc.checked_mul(d));
    bytes().ok_or_else(|| format!("shape {dims:?} is too large"))
}
