//! The model's shape, and where each tensor lies in the flat parameter vector.

use crate::error::SpecialistError;

/// A llama-architecture decoder's shape: the hyperparameters llama.cpp reads
/// from the GGUF (`llama.embedding_length`, ...), with keys and values of
/// the same width as the queries (no grouped heads: the model is small
/// enough that the KV cache costs nothing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Tokens of the vocabulary (rows of the embedding and of the output).
    pub vocab: usize,
    /// Width of the residual stream.
    pub dim: usize,
    pub layers: usize,
    pub heads: usize,
    /// Width of the SwiGLU hidden layer.
    pub ffn: usize,
    /// The longest sequence trained on and served (llama.cpp's context length).
    pub context: usize,
    pub rope_base: f32,
    pub norm_eps: f32,
}

impl Config {
    /// A shape for `vocab` tokens and sequences of `context` tokens, with
    /// llama's conventions for the rest: SwiGLU width about 8/3 of `dim`
    /// rounded to 16, RoPE base 10,000, RMS-norm epsilon 1e-5.
    pub fn new(vocab: usize, dim: usize, layers: usize, heads: usize, context: usize) -> Config {
        let ffn = (dim * 8 / 3).div_ceil(16) * 16;
        Config { vocab, dim, layers, heads, ffn, context, rope_base: 10_000.0, norm_eps: 1e-5 }
    }

    /// Checks the shape is one the model (and llama.cpp) can run.
    pub fn check(&self) -> Result<(), SpecialistError> {
        let fail = |reason: String| Err(SpecialistError::Config { reason });
        if self.vocab < 2 || self.dim == 0 || self.layers == 0 || self.heads == 0 || self.ffn == 0 || self.context < 2 {
            return fail(format!("every size must be positive, the vocabulary and the context at least 2: {self:?}"));
        }
        if !self.dim.is_multiple_of(self.heads) {
            return fail(format!("the width {} is not a multiple of the {} heads", self.dim, self.heads));
        }
        if !self.head_dim().is_multiple_of(2) {
            return fail(format!("the head width {} is odd: RoPE rotates pairs", self.head_dim()));
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.dim / self.heads
    }

    /// Every tensor, in the order of the flat parameter vector and of the GGUF.
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let mut specs = Vec::with_capacity(3 + self.layers * LAYER_TENSORS);
        let mut offset = 0;
        let mut push = |name: String, rows: usize, cols: usize| {
            specs.push(TensorSpec { name, rows, cols, offset });
            offset += rows * cols;
        };
        push("token_embd.weight".into(), self.vocab, self.dim);
        for l in 0..self.layers {
            for which in LayerTensor::ALL {
                let (rows, cols) = which.shape(self);
                push(format!("blk.{l}.{}.weight", which.gguf_name()), rows, cols);
            }
        }
        push("output_norm.weight".into(), 1, self.dim);
        push("output.weight".into(), self.vocab, self.dim);
        specs
    }

    /// Parameters in all.
    pub fn parameters(&self) -> usize {
        self.tensors().iter().map(|t| t.rows * t.cols).sum()
    }

    pub(crate) fn embedding(&self) -> std::ops::Range<usize> {
        0..self.vocab * self.dim
    }

    pub(crate) fn layer(&self, l: usize, which: LayerTensor) -> std::ops::Range<usize> {
        let start = self.vocab * self.dim + l * self.layer_size() + which.offset(self);
        let (rows, cols) = which.shape(self);
        start..start + rows * cols
    }

    pub(crate) fn output_norm(&self) -> std::ops::Range<usize> {
        let start = self.vocab * self.dim + self.layers * self.layer_size();
        start..start + self.dim
    }

    pub(crate) fn output(&self) -> std::ops::Range<usize> {
        let start = self.output_norm().end;
        start..start + self.vocab * self.dim
    }

    fn layer_size(&self) -> usize {
        LayerTensor::ALL.iter().map(|w| w.shape(self).0 * w.shape(self).1).sum()
    }
}

/// One tensor: a row-major matrix of `rows` × `cols` at `offset` in the
/// flat parameter vector. A linear layer's matrix is `[out][in]`, which is
/// ggml's `ne = [in, out]`: the bytes are the same in both.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// llama.cpp's name for it (`blk.0.attn_q.weight`).
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
}

const LAYER_TENSORS: usize = 9;

/// The tensors of one transformer block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LayerTensor {
    AttnNorm,
    Query,
    Key,
    Value,
    AttnOut,
    FfnNorm,
    Gate,
    Up,
    Down,
}

impl LayerTensor {
    pub(crate) const ALL: [LayerTensor; LAYER_TENSORS] = [
        LayerTensor::AttnNorm,
        LayerTensor::Query,
        LayerTensor::Key,
        LayerTensor::Value,
        LayerTensor::AttnOut,
        LayerTensor::FfnNorm,
        LayerTensor::Gate,
        LayerTensor::Up,
        LayerTensor::Down,
    ];

    fn gguf_name(self) -> &'static str {
        match self {
            LayerTensor::AttnNorm => "attn_norm",
            LayerTensor::Query => "attn_q",
            LayerTensor::Key => "attn_k",
            LayerTensor::Value => "attn_v",
            LayerTensor::AttnOut => "attn_output",
            LayerTensor::FfnNorm => "ffn_norm",
            LayerTensor::Gate => "ffn_gate",
            LayerTensor::Up => "ffn_up",
            LayerTensor::Down => "ffn_down",
        }
    }

    /// `(rows, cols)`: `[out][in]` for a linear layer, `[1][dim]` for a norm.
    fn shape(self, c: &Config) -> (usize, usize) {
        match self {
            LayerTensor::AttnNorm | LayerTensor::FfnNorm => (1, c.dim),
            LayerTensor::Query | LayerTensor::Key | LayerTensor::Value | LayerTensor::AttnOut => (c.dim, c.dim),
            LayerTensor::Gate | LayerTensor::Up => (c.ffn, c.dim),
            LayerTensor::Down => (c.dim, c.ffn),
        }
    }

    fn offset(self, c: &Config) -> usize {
        LayerTensor::ALL.iter().take_while(|&&w| w != self).map(|w| w.shape(c).0 * w.shape(c).1).sum()
    }

    /// Norm weights start at one and take no weight decay.
    pub(crate) fn is_norm(self) -> bool {
        matches!(self, LayerTensor::AttnNorm | LayerTensor::FfnNorm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_tile_the_parameter_vector_in_the_order_of_the_tensors() {
        let c = Config::new(50, 32, 2, 4, 64);
        let specs = c.tensors();
        let mut ranges = vec![c.embedding()];
        for l in 0..c.layers {
            ranges.extend(LayerTensor::ALL.iter().map(|&w| c.layer(l, w)));
        }
        ranges.extend([c.output_norm(), c.output()]);
        assert_eq!(ranges.len(), specs.len());
        for (range, spec) in ranges.iter().zip(&specs) {
            assert_eq!((range.start, range.len()), (spec.offset, spec.rows * spec.cols), "{}", spec.name);
        }
        assert_eq!(ranges.last().unwrap().end, c.parameters());
        assert_eq!(specs[1 + 6].name, "blk.0.ffn_gate.weight");
    }

    #[test]
    fn shapes_that_cannot_run_are_refused() {
        assert!(Config::new(50, 32, 2, 4, 64).check().is_ok());
        let odd_head = Config::new(50, 36, 2, 4, 64);
        assert!(odd_head.check().unwrap_err().to_string().contains("head width 9 is odd"));
        let ragged = Config::new(50, 30, 2, 4, 64);
        assert!(ragged.check().unwrap_err().to_string().contains("not a multiple of the 4 heads"));
        assert!(Config::new(1, 32, 2, 4, 64).check().is_err());
    }
}
