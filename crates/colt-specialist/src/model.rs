//! The forward pass, the loss on an example's answer and the backward pass
//! of the llama architecture, computed exactly as llama.cpp computes it
//! (RMS norm, RoPE on adjacent pairs, causal softmax attention scaled by
//! 1/√head width, SwiGLU, an untied output matrix), so that the weights
//! written to a GGUF give llama.cpp the logits they gave here.

use crate::config::{Config, LayerTensor};
use crate::linalg::{add_xt_y, gemm, x_wt, x_y, Strided};

/// One training or evaluation example: a token sequence whose tokens from
/// `answer_start` on are the answer; only they are predicted in the loss
/// (the prompt is given, never learned).
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub tokens: Vec<u32>,
    pub answer_start: usize,
}

impl Example {
    /// Positions whose next token is an answer token: the loss's terms.
    pub fn predicted(&self) -> usize {
        self.tokens.len().saturating_sub(self.answer_start.max(1))
    }
}

/// What the backward pass needs of one block's forward pass.
struct LayerCache {
    input: Vec<f32>,
    rms_attn: Vec<f32>,
    normed_attn: Vec<f32>,
    /// Queries and keys after RoPE.
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Attention probabilities, `[head][query][key]`, zero above the diagonal.
    probs: Vec<f32>,
    attended: Vec<f32>,
    mid: Vec<f32>,
    rms_ffn: Vec<f32>,
    normed_ffn: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    hidden: Vec<f32>,
}

/// One sequence's forward pass, kept for its backward pass.
pub(crate) struct Forward {
    tokens: Vec<u32>,
    layers: Vec<LayerCache>,
    last: Vec<f32>,
    rms_out: Vec<f32>,
    normed_out: Vec<f32>,
    /// `[position][vocab]`.
    pub(crate) logits: Vec<f32>,
}

/// The cosines and sines of RoPE for positions `0..t`, `[position][pair]`.
struct Rope {
    cos: Vec<f32>,
    sin: Vec<f32>,
    pairs: usize,
}

impl Rope {
    fn new(c: &Config, t: usize) -> Rope {
        let pairs = c.head_dim() / 2;
        let mut cos = Vec::with_capacity(t * pairs);
        let mut sin = Vec::with_capacity(t * pairs);
        for pos in 0..t {
            for i in 0..pairs {
                // llama.cpp's θ_i = pos · base^(−2i/d).
                let theta = pos as f32 * c.rope_base.powf(-2.0 * i as f32 / c.head_dim() as f32);
                cos.push(theta.cos());
                sin.push(theta.sin());
            }
        }
        Rope { cos, sin, pairs }
    }

    /// Rotates each head's adjacent pairs `(x₂ᵢ, x₂ᵢ₊₁)` by θᵢ (ggml's normal
    /// RoPE mode, the llama architecture's), or back by −θᵢ (`inverse`,
    /// the backward pass: a rotation's transpose is its inverse).
    fn apply(&self, x: &mut [f32], dim: usize, inverse: bool) {
        let sign = if inverse { -1.0 } else { 1.0 };
        for (pos, row) in x.chunks_exact_mut(dim).enumerate() {
            let (cos, sin) = (&self.cos[pos * self.pairs..][..self.pairs], &self.sin[pos * self.pairs..][..self.pairs]);
            for head in row.chunks_exact_mut(self.pairs * 2) {
                for i in 0..self.pairs {
                    let (a, b) = (head[2 * i], head[2 * i + 1]);
                    let s = sign * sin[i];
                    head[2 * i] = a * cos[i] - b * s;
                    head[2 * i + 1] = a * s + b * cos[i];
                }
            }
        }
    }
}

/// `out = x / rms(x) · weight` row by row; returns each row's 1/rms.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Vec<f32> {
    let dim = weight.len();
    let mut inverse = Vec::with_capacity(x.len() / dim);
    for (row, out) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let mean_square = row.iter().map(|v| v * v).sum::<f32>() / dim as f32;
        let r = 1.0 / (mean_square + eps).sqrt();
        for ((o, &v), &w) in out.iter_mut().zip(row).zip(weight) {
            *o = v * r * w;
        }
        inverse.push(r);
    }
    inverse
}

/// The backward pass of [`rms_norm`]: adds to `d_x` and `d_weight`.
fn rms_norm_backward(x: &[f32], weight: &[f32], inverse: &[f32], d_out: &[f32], d_x: &mut [f32], d_weight: &mut [f32]) {
    let dim = weight.len();
    for (((row, d_row), d_x_row), &r) in
        x.chunks_exact(dim).zip(d_out.chunks_exact(dim)).zip(d_x.chunks_exact_mut(dim)).zip(inverse)
    {
        let mut s = 0.0;
        for i in 0..dim {
            d_weight[i] += d_row[i] * row[i] * r;
            s += d_row[i] * weight[i] * row[i];
        }
        let k = r * r * r * s / dim as f32;
        for i in 0..dim {
            d_x_row[i] += r * weight[i] * d_row[i] - row[i] * k;
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Causal attention of every head: `probs` and `out` (`[t][dim]`, heads
/// side by side). Each head's scores and output are matrix products over
/// column slices of `q`, `k` and `v`; the upper triangle of the scores is
/// computed and masked (a product is faster than skipping it).
fn attention(c: &Config, t: usize, q: &[f32], k: &[f32], v: &[f32], probs: &mut [f32], out: &mut [f32]) {
    let (dim, hd) = (c.dim, c.head_dim());
    let scale = 1.0 / (hd as f32).sqrt();
    for h in 0..c.heads {
        let p = &mut probs[h * t * t..][..t * t];
        let q_h = Strided { data: &q[h * hd..], rows: dim, cols: 1 };
        let k_h_t = Strided { data: &k[h * hd..], rows: 1, cols: dim };
        gemm(t, hd, t, scale, q_h, k_h_t, 0.0, p, t);
        for (i, row) in p.chunks_exact_mut(t).enumerate() {
            let max = row[..=i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for s in &mut row[..=i] {
                *s = (*s - max).exp();
                sum += *s;
            }
            for s in &mut row[..=i] {
                *s /= sum;
            }
            row[i + 1..].fill(0.0);
        }
        let v_h = Strided { data: &v[h * hd..], rows: dim, cols: 1 };
        gemm(t, t, hd, 1.0, Strided { data: p, rows: t, cols: 1 }, v_h, 0.0, &mut out[h * hd..], dim);
    }
}

/// Head columns `offset..` of a `[t][dim]` matrix, as a `t × head` view.
fn head_columns(x: &[f32], offset: usize, dim: usize) -> Strided<'_> {
    Strided { data: &x[offset..], rows: dim, cols: 1 }
}

/// The same columns transposed: a `head × t` view.
fn head_columns_transposed(x: &[f32], offset: usize, dim: usize) -> Strided<'_> {
    Strided { data: &x[offset..], rows: 1, cols: dim }
}

/// The backward pass of [`attention`]: adds to `d_q`, `d_k` and `d_v`.
#[allow(clippy::too_many_arguments)]
fn attention_backward(
    c: &Config,
    t: usize,
    (q, k, v): (&[f32], &[f32], &[f32]),
    probs: &[f32],
    d_out: &[f32],
    d_q: &mut [f32],
    d_k: &mut [f32],
    d_v: &mut [f32],
) {
    let (dim, hd) = (c.dim, c.head_dim());
    let scale = 1.0 / (hd as f32).sqrt();
    let mut d_scores = vec![0.0; t * t];
    for h in 0..c.heads {
        let p = &probs[h * t * t..][..t * t];
        let column = |x| head_columns(x, h * hd, dim);
        let transposed = |x| head_columns_transposed(x, h * hd, dim);
        // dP = dO · Vᵀ, dV += Pᵀ · dO.
        gemm(t, hd, t, 1.0, column(d_out), transposed(v), 0.0, &mut d_scores, t);
        gemm(t, t, hd, 1.0, Strided { data: p, rows: 1, cols: t }, column(d_out), 1.0, &mut d_v[h * hd..], dim);
        // dS = P ∘ (dP − rowsum(P ∘ dP)), scaled as the scores were.
        for (row, d_row) in p.chunks_exact(t).zip(d_scores.chunks_exact_mut(t)) {
            let weighted: f32 = row.iter().zip(d_row.iter()).map(|(a, b)| a * b).sum();
            for (d, &pj) in d_row.iter_mut().zip(row) {
                *d = pj * (*d - weighted) * scale;
            }
        }
        // dQ += dS · K, dK += dSᵀ · Q.
        let ds = Strided { data: &d_scores, rows: t, cols: 1 };
        gemm(t, t, hd, 1.0, ds, column(k), 1.0, &mut d_q[h * hd..], dim);
        let ds_t = Strided { data: &d_scores, rows: 1, cols: t };
        gemm(t, t, hd, 1.0, ds_t, column(q), 1.0, &mut d_k[h * hd..], dim);
    }
}

/// The forward pass of `tokens` (each below `c.vocab`, at most `c.context`).
pub(crate) fn forward(c: &Config, params: &[f32], tokens: &[u32]) -> Forward {
    let (t, dim, ffn) = (tokens.len(), c.dim, c.ffn);
    let rope = Rope::new(c, t);
    let embedding = &params[c.embedding()];
    let mut x: Vec<f32> =
        tokens.iter().flat_map(|&tok| embedding[tok as usize * dim..][..dim].iter().copied()).collect();
    let mut layers = Vec::with_capacity(c.layers);
    for l in 0..c.layers {
        let w = |which| &params[c.layer(l, which)];
        let mut normed_attn = vec![0.0; t * dim];
        let rms_attn = rms_norm(&x, w(LayerTensor::AttnNorm), c.norm_eps, &mut normed_attn);
        let (mut q, mut k, mut v) = (vec![0.0; t * dim], vec![0.0; t * dim], vec![0.0; t * dim]);
        x_wt(&normed_attn, w(LayerTensor::Query), t, dim, dim, &mut q);
        x_wt(&normed_attn, w(LayerTensor::Key), t, dim, dim, &mut k);
        x_wt(&normed_attn, w(LayerTensor::Value), t, dim, dim, &mut v);
        rope.apply(&mut q, dim, false);
        rope.apply(&mut k, dim, false);
        let mut probs = vec![0.0; c.heads * t * t];
        let mut attended = vec![0.0; t * dim];
        attention(c, t, &q, &k, &v, &mut probs, &mut attended);
        let mut mid = x.clone();
        x_wt(&attended, w(LayerTensor::AttnOut), t, dim, dim, &mut mid);
        let mut normed_ffn = vec![0.0; t * dim];
        let rms_ffn = rms_norm(&mid, w(LayerTensor::FfnNorm), c.norm_eps, &mut normed_ffn);
        let (mut gate, mut up) = (vec![0.0; t * ffn], vec![0.0; t * ffn]);
        x_wt(&normed_ffn, w(LayerTensor::Gate), t, dim, ffn, &mut gate);
        x_wt(&normed_ffn, w(LayerTensor::Up), t, dim, ffn, &mut up);
        let hidden: Vec<f32> = gate.iter().zip(&up).map(|(&g, &u)| g * sigmoid(g) * u).collect();
        let mut out = mid.clone();
        x_wt(&hidden, w(LayerTensor::Down), t, ffn, dim, &mut out);
        let input = std::mem::replace(&mut x, out);
        layers.push(LayerCache {
            input,
            rms_attn,
            normed_attn,
            q,
            k,
            v,
            probs,
            attended,
            mid,
            rms_ffn,
            normed_ffn,
            gate,
            up,
            hidden,
        });
    }
    let mut normed_out = vec![0.0; t * dim];
    let rms_out = rms_norm(&x, &params[c.output_norm()], c.norm_eps, &mut normed_out);
    let mut logits = vec![0.0; t * c.vocab];
    x_wt(&normed_out, &params[c.output()], t, dim, c.vocab, &mut logits);
    Forward { tokens: tokens.to_vec(), layers, last: x, rms_out, normed_out, logits }
}

/// The summed cross-entropy of the answer's tokens given what precedes
/// them, and its gradient with respect to the logits times `scale`
/// (`1 / tokens predicted in the batch`, so that the batch's gradient is
/// that of its mean loss).
pub(crate) fn answer_loss(c: &Config, forward: &Forward, example: &Example, scale: f32) -> (f64, Vec<f32>) {
    let v = c.vocab;
    let mut d_logits = vec![0.0; forward.logits.len()];
    let mut loss = 0.0f64;
    for pos in example.answer_start.max(1) - 1..example.tokens.len() - 1 {
        let target = example.tokens[pos + 1] as usize;
        let row = &forward.logits[pos * v..][..v];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = row.iter().map(|&z| (z - max).exp()).sum();
        loss += f64::from(sum.ln() + max - row[target]);
        let d_row = &mut d_logits[pos * v..][..v];
        for (d, &z) in d_row.iter_mut().zip(row) {
            *d = (z - max).exp() / sum * scale;
        }
        d_row[target] -= scale;
    }
    (loss, d_logits)
}

/// The backward pass: adds the gradient of the loss whose gradient with
/// respect to the logits is `d_logits` to `grads` (laid out as `params`).
pub(crate) fn backward(c: &Config, params: &[f32], forward: &Forward, d_logits: &[f32], grads: &mut [f32]) {
    let (t, dim, ffn) = (forward.tokens.len(), c.dim, c.ffn);
    let rope = Rope::new(c, t);
    let mut d_normed = vec![0.0; t * dim];
    x_y(d_logits, &params[c.output()], t, c.vocab, dim, &mut d_normed);
    add_xt_y(d_logits, &forward.normed_out, t, c.vocab, dim, &mut grads[c.output()]);
    let mut d_x = vec![0.0; t * dim];
    rms_norm_backward(
        &forward.last,
        &params[c.output_norm()],
        &forward.rms_out,
        &d_normed,
        &mut d_x,
        &mut grads[c.output_norm()],
    );
    for l in (0..c.layers).rev() {
        let cache = &forward.layers[l];
        let w = |which| &params[c.layer(l, which)];
        // The feed-forward half: out = mid + down(silu(gate) · up).
        let mut d_hidden = vec![0.0; t * ffn];
        x_y(&d_x, w(LayerTensor::Down), t, dim, ffn, &mut d_hidden);
        add_xt_y(&d_x, &cache.hidden, t, dim, ffn, &mut grads[c.layer(l, LayerTensor::Down)]);
        let mut d_gate = vec![0.0; t * ffn];
        let mut d_up = vec![0.0; t * ffn];
        for i in 0..t * ffn {
            let (g, s) = (cache.gate[i], sigmoid(cache.gate[i]));
            d_up[i] = d_hidden[i] * g * s;
            d_gate[i] = d_hidden[i] * cache.up[i] * s * (1.0 + g * (1.0 - s));
        }
        let mut d_normed = vec![0.0; t * dim];
        x_y(&d_gate, w(LayerTensor::Gate), t, ffn, dim, &mut d_normed);
        x_y(&d_up, w(LayerTensor::Up), t, ffn, dim, &mut d_normed);
        add_xt_y(&d_gate, &cache.normed_ffn, t, ffn, dim, &mut grads[c.layer(l, LayerTensor::Gate)]);
        add_xt_y(&d_up, &cache.normed_ffn, t, ffn, dim, &mut grads[c.layer(l, LayerTensor::Up)]);
        // d_x holds d(out), which is also d(mid) through the residual.
        let mut d_mid = d_x;
        let norm = c.layer(l, LayerTensor::FfnNorm);
        rms_norm_backward(&cache.mid, &params[norm.clone()], &cache.rms_ffn, &d_normed, &mut d_mid, &mut grads[norm]);
        // The attention half: mid = input + out_proj(attention(rope(q), rope(k), v)).
        let mut d_attended = vec![0.0; t * dim];
        x_y(&d_mid, w(LayerTensor::AttnOut), t, dim, dim, &mut d_attended);
        add_xt_y(&d_mid, &cache.attended, t, dim, dim, &mut grads[c.layer(l, LayerTensor::AttnOut)]);
        let (mut d_q, mut d_k, mut d_v) = (vec![0.0; t * dim], vec![0.0; t * dim], vec![0.0; t * dim]);
        attention_backward(
            c,
            t,
            (&cache.q, &cache.k, &cache.v),
            &cache.probs,
            &d_attended,
            &mut d_q,
            &mut d_k,
            &mut d_v,
        );
        rope.apply(&mut d_q, dim, true);
        rope.apply(&mut d_k, dim, true);
        let mut d_normed = vec![0.0; t * dim];
        for (d, which) in [(&d_q, LayerTensor::Query), (&d_k, LayerTensor::Key), (&d_v, LayerTensor::Value)] {
            x_y(d, w(which), t, dim, dim, &mut d_normed);
            add_xt_y(d, &cache.normed_attn, t, dim, dim, &mut grads[c.layer(l, which)]);
        }
        let mut d_input = d_mid;
        let norm = c.layer(l, LayerTensor::AttnNorm);
        rms_norm_backward(
            &cache.input,
            &params[norm.clone()],
            &cache.rms_attn,
            &d_normed,
            &mut d_input,
            &mut grads[norm],
        );
        d_x = d_input;
    }
    let d_embedding = &mut grads[c.embedding()];
    for (pos, &tok) in forward.tokens.iter().enumerate() {
        for (d, &g) in d_embedding[tok as usize * dim..][..dim].iter_mut().zip(&d_x[pos * dim..][..dim]) {
            *d += g;
        }
    }
}

/// The logits of every position of `tokens`, `[position][vocab]`.
pub fn logits(c: &Config, params: &[f32], tokens: &[u32]) -> Vec<f32> {
    forward(c, params, tokens).logits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Model;

    fn sequence(seed: u32, len: usize, vocab: usize) -> Vec<u32> {
        (0..len as u32)
            .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 40_503) >> 7) % vocab as u32)
            .collect()
    }

    /// A model whose attention is far from uniform and whose norms are not
    /// all one, so that every term of the backward pass matters.
    fn lively_model() -> Model {
        let mut model = Model::init(Config::new(11, 16, 2, 2, 16), 3).unwrap();
        for (i, p) in model.params.iter_mut().enumerate() {
            *p = *p * 3.0 + if *p == 1.0 { 0.3 * ((i as f32) * 0.7).sin() } else { 0.0 };
        }
        model
    }

    #[test]
    fn the_gradient_matches_finite_differences_of_the_answer_loss() {
        let model = lively_model();
        let c = model.config;
        let examples = [
            Example { tokens: sequence(1, 9, c.vocab), answer_start: 4 },
            Example { tokens: sequence(2, 12, c.vocab), answer_start: 7 },
        ];
        let (_, grads) = model.loss_and_gradient(&examples, 2);
        let loss_at = |params: &[f32]| {
            let m = Model { config: c, params: params.to_vec() };
            m.loss(&examples).unwrap()
        };
        let (mut checked, mut worst) = (0, 0.0f64);
        // Every tensor, a spread of its entries.
        for spec in c.tensors() {
            for k in (0..spec.rows * spec.cols).step_by(7) {
                let i = spec.offset + k;
                let eps = 2e-3f32;
                let mut p = model.params.clone();
                p[i] += eps;
                let up = loss_at(&p);
                p[i] -= 2.0 * eps;
                let down = loss_at(&p);
                let numeric = (up - down) / (2.0 * f64::from(eps));
                let analytic = f64::from(grads[i]);
                let error = (numeric - analytic).abs() / (numeric.abs().max(analytic.abs()) + 2e-3);
                assert!(error < 0.05, "{} entry {k}: analytic {analytic}, numeric {numeric}", spec.name);
                worst = worst.max(error);
                checked += 1;
            }
        }
        assert!(checked > 300, "{checked}");
        // The gradient is not zero (a wrong wiring that drops terms could pass above only where it is).
        assert!(grads.iter().filter(|g| g.abs() > 1e-3).count() > grads.len() / 4);
        eprintln!("{checked} entries, worst relative error {worst:.4}");
    }

    #[test]
    fn the_prompt_is_not_learned_only_the_answer_is() {
        let model = lively_model();
        let c = model.config;
        let tokens = sequence(5, 10, c.vocab);
        let f = forward(&c, &model.params, &tokens);
        let (_, d) = answer_loss(&c, &f, &Example { tokens: tokens.clone(), answer_start: 6 }, 1.0);
        for pos in 0..tokens.len() {
            let row_is_zero = d[pos * c.vocab..][..c.vocab].iter().all(|&g| g == 0.0);
            // Position `pos` predicts token pos + 1: answer tokens are 6.. .
            assert_eq!(row_is_zero, !(5..9).contains(&pos), "position {pos}");
        }
    }

    #[test]
    fn a_position_sees_only_the_tokens_before_it() {
        let model = lively_model();
        let c = model.config;
        let mut tokens = sequence(9, 10, c.vocab);
        let before = logits(&c, &model.params, &tokens);
        tokens[7] = (tokens[7] + 1) % c.vocab as u32;
        let after = logits(&c, &model.params, &tokens);
        assert_eq!(before[..7 * c.vocab], after[..7 * c.vocab]);
        assert_ne!(before[7 * c.vocab..], after[7 * c.vocab..]);
    }
}
