//! The specialist's corpus of workloads: seeded programs of the families a
//! user tunes — matmuls and batched matmuls of round and odd extents,
//! matrix-vector products, attention with and without a causal mask or a
//! sliding window, with grouped heads, head widths 64–128 and odd
//! sequence lengths, SwiGLU and GeGLU MLPs, 3×3, 1×1 and depthwise
//! convolutions, RMS norms, softmax rows and element-wise chains — and
//! never one of the suite's programs (the specialist is measured on the
//! suite: a suite shape in its corpus would be a test question in its
//! training set).
//!
//! Each program is written in the workload language and parsed like a
//! user's file, so the corpus exercises the same front end. Shapes are
//! kept to at most [`MAX_CORPUS_MACS`] multiply-adds, so that tuning a
//! corpus workload costs seconds of measurement, not minutes.

use crate::schedule::Rng;
use crate::{parse_workload, Program, Size, SUITE};

/// The families, in the order `seed % FAMILIES.len()` picks them.
pub const FAMILIES: [&str; 12] = [
    "matmul",
    "bmm",
    "matvec",
    "attention",
    "causal-attention",
    "window-attention",
    "swiglu",
    "geglu",
    "conv3x3",
    "conv1x1",
    "depthwise",
    "rows",
];

/// The most multiply-adds (or points, for programs without products) a
/// corpus program has.
pub const MAX_CORPUS_MACS: u64 = 48_000_000;

/// Extents a user meets: powers of two, their multiples of three, and odd
/// lengths (a tokenizer's 77, a ViT's 197, primes).
const EXTENTS: [usize; 16] = [32, 48, 64, 77, 96, 100, 128, 131, 192, 197, 256, 257, 320, 384, 512, 768];
const HEAD_DIMS: [usize; 5] = [64, 80, 96, 112, 128];

/// The corpus program of `seed`: its family `FAMILIES[seed % 12]`, its
/// shape drawn from the seed; named `corpus-<family>-<seed>`.
pub fn corpus_program(seed: u64) -> Program {
    let text = corpus_text(seed);
    // Every template is valid for every shape it draws (a test parses thousands).
    parse_workload(&text, "corpus", Size::Bench).unwrap_or_else(|e| panic!("corpus program {seed}: {e}\n{text}"))
}

/// The corpus program called `name` (`corpus-<family>-<seed>`, as
/// [`corpus_program`] names it), so that a corpus workload is tuned, shown
/// and rebuilt by its name like a built-in.
pub fn corpus_by_name(name: &str) -> Option<Program> {
    let seed: u64 = name.strip_prefix("corpus-")?.rsplit('-').next()?.parse().ok()?;
    let family = FAMILIES[(seed % FAMILIES.len() as u64) as usize];
    (name == format!("corpus-{family}-{seed}")).then(|| corpus_program(seed))
}

/// The workload text of [`corpus_program`]`(seed)`: the first draw of its
/// family whose program is within [`MAX_CORPUS_MACS`] and is none of the
/// suite's.
pub fn corpus_text(seed: u64) -> String {
    let family = FAMILIES[(seed % FAMILIES.len() as u64) as usize];
    let mut rng = Rng::new(seed ^ 0xc0_4905);
    let suite: Vec<String> = SUITE.iter().map(|w| body(&crate::print_program(&w.program(Size::Bench)))).collect();
    for _ in 0..1000 {
        let (text, work) = draw(family, seed, &mut rng);
        if work <= MAX_CORPUS_MACS && !suite.contains(&body(&text)) {
            return text;
        }
    }
    unreachable!("a family's smallest draws are far below the limit")
}

/// A program's text without its name line and comments: what it computes.
fn body(text: &str) -> String {
    let lines = text.lines().map(|l| l.split('#').next().unwrap_or("").trim());
    lines.filter(|l| !l.is_empty() && !l.starts_with("workload")).collect::<Vec<_>>().join("\n")
}

/// One draw of `family`: its text and its multiply-adds.
fn draw(family: &str, seed: u64, rng: &mut Rng) -> (String, u64) {
    let head = format!("workload corpus-{family}-{seed}\n");
    let (text, work) = match family {
        "matmul" => {
            let (m, n, k) = (rng.pick(&EXTENTS), rng.pick(&EXTENTS), rng.pick(&EXTENTS));
            (
                format!("input A[{m}, {k}]\ninput B[{k}, {n}]\noutput C[{m}, {n}]\nC[i, j] += A[i, k] * B[k, j]\n"),
                m * n * k,
            )
        }
        "bmm" => {
            let (m, n, k) = (rng.pick(&EXTENTS), rng.pick(&EXTENTS), rng.pick(&EXTENTS));
            let b = rng.pick(&[2, 3, 4, 7, 8, 12]);
            (
                format!(
                    "input A[{b}, {m}, {k}]\ninput B[{b}, {k}, {n}]\noutput C[{b}, {m}, {n}]\n\
                     C[b, i, j] += A[b, i, k] * B[b, k, j]\n"
                ),
                b * m * n * k,
            )
        }
        "matvec" => {
            let (n, k) = (rng.pick(&EXTENTS) * rng.pick(&[1, 2, 4, 8]), rng.pick(&EXTENTS) * rng.pick(&[1, 2, 4, 8]));
            (format!("input W[{n}, {k}]\ninput x[{k}]\noutput y[{n}]\ny[n] += W[n, k] * x[k]\n"), n * k)
        }
        "attention" | "causal-attention" | "window-attention" => {
            let heads = rng.pick(&[4, 8, 12, 16]);
            let kv = heads / rng.pick(&[1, 2, 4]);
            let seq = rng.pick(&[64, 77, 100, 128, 131, 197, 256, 320]);
            let d = rng.pick(&HEAD_DIMS);
            let mask = match family {
                "attention" => format!("QK[h, i, j] / sqrt({d}.0)"),
                "causal-attention" => format!("select(j <= i, QK[h, i, j] / sqrt({d}.0), -inf)"),
                _ => {
                    let w = rng.pick(&[16, 32, 48, 64]);
                    format!("select(j <= i && j + {} >= i, QK[h, i, j] / sqrt({d}.0), -inf)", w - 1)
                }
            };
            let g = heads / kv;
            let kv_h = if g == 1 { "h".to_string() } else { format!("h / {g}") };
            (
                format!(
                    "input Q[{heads}, {seq}, {d}]\ninput K[{kv}, {seq}, {d}]\ninput V[{kv}, {seq}, {d}]\n\
                     temp QK[{heads}, {seq}, {seq}]\ntemp S[{heads}, {seq}, {seq}]\ntemp M[{heads}, {seq}]\n\
                     temp E[{heads}, {seq}, {seq}]\ntemp L[{heads}, {seq}]\ntemp P[{heads}, {seq}, {seq}]\n\
                     output O[{heads}, {seq}, {d}]\n\
                     QK[h, i, j] += Q[h, i, d] * K[{kv_h}, j, d]\n\
                     S[h, i, j] = {mask}\n\
                     M[h, i] max= S[h, i, j]\n\
                     E[h, i, j] = exp(S[h, i, j] - M[h, i])\n\
                     L[h, i] += E[h, i, j]\n\
                     P[h, i, j] = E[h, i, j] / L[h, i]\n\
                     O[h, i, d] += P[h, i, j] * V[{kv_h}, j, d]\n"
                ),
                2 * heads * seq * seq * d,
            )
        }
        "swiglu" | "geglu" => {
            let t = rng.pick(&[8, 16, 32, 48, 64, 77, 128]);
            let (hidden, width) =
                (rng.pick(&EXTENTS) * rng.pick(&[1, 2, 4]), rng.pick(&EXTENTS) * rng.pick(&[1, 2, 4]));
            let gate = if family == "swiglu" {
                "G[t, f] / (1.0 + exp(-(G[t, f]))) * U[t, f]".to_string()
            } else {
                // GELU's sigmoid form, x·σ(1.702x) (the language has no tanh).
                "G[t, f] / (1.0 + exp(-1.702 * G[t, f])) * U[t, f]".to_string()
            };
            (
                format!(
                    "input X[{t}, {hidden}]\ninput Wg[{hidden}, {width}]\ninput Wu[{hidden}, {width}]\n\
                     input Wd[{width}, {hidden}]\ntemp G[{t}, {width}]\ntemp U[{t}, {width}]\n\
                     temp H[{t}, {width}]\noutput Y[{t}, {hidden}]\n\
                     G[t, f] += X[t, h] * Wg[h, f]\nU[t, f] += X[t, h] * Wu[h, f]\n\
                     H[t, f] = {gate}\nY[t, h] += H[t, f] * Wd[f, h]\n"
                ),
                3 * t * hidden * width,
            )
        }
        "conv3x3" | "depthwise" | "conv1x1" => {
            let c = rng.pick(&[16, 32, 48, 64, 96, 128, 256]);
            let co = if family == "conv1x1" { rng.pick(&[16, 32, 64, 128, 256]) } else { c };
            let side = rng.pick(&[7, 14, 16, 28, 32, 56]);
            let s = side;
            let text = match family {
                "conv3x3" => format!(
                    "input X[1, {c}, {s}, {s}]\ninput W[{c}, {c}, 3, 3]\ninput b[{c}]\ntemp Yc[1, {c}, {s}, {s}]\n\
                     output Y[1, {c}, {s}, {s}]\n\
                     Yc[n, co, y, x] += padded(X[n, ci, y + ky - 1, x + kx - 1], 0.0) * W[co, ci, ky, kx]\n\
                     Y[n, co, y, x] = Yc[n, co, y, x] + b[co]\n"
                ),
                "depthwise" => format!(
                    "input X[1, {c}, {s}, {s}]\ninput W[{c}, 3, 3]\noutput Y[1, {c}, {s}, {s}]\n\
                     Y[n, c, y, x] += padded(X[n, c, y + ky - 1, x + kx - 1], 0.0) * W[c, ky, kx]\n"
                ),
                _ => format!(
                    "input X[1, {c}, {s}, {s}]\ninput W[{co}, {c}]\noutput Y[1, {co}, {s}, {s}]\n\
                     Y[n, co, y, x] += X[n, ci, y, x] * W[co, ci]\n"
                ),
            };
            let work = match family {
                "conv3x3" => c * c * 9 * s * s,
                "depthwise" => c * 9 * s * s,
                _ => c * co * s * s,
            };
            (text, work)
        }
        _ => {
            // Row-wise programs: an RMS norm, a softmax, or an element-wise chain.
            let (t, w) = (rng.pick(&[16, 32, 64, 77, 128, 197]), rng.pick(&EXTENTS) * rng.pick(&[1, 2, 4, 8]));
            let text = match rng.below(3) {
                0 => format!(
                    "input X[{t}, {w}]\ninput g[{w}]\ntemp SS[{t}]\ntemp R[{t}]\noutput Y[{t}, {w}]\n\
                     SS[t] += X[t, h] * X[t, h]\nR[t] = 1.0 / sqrt(SS[t] / {w}.0 + 1e-5)\n\
                     Y[t, h] = X[t, h] * R[t] * g[h]\n"
                ),
                1 => format!(
                    "input X[{t}, {w}]\ntemp M[{t}]\ntemp E[{t}, {w}]\ntemp L[{t}]\noutput Y[{t}, {w}]\n\
                     M[t] max= X[t, h]\nE[t, h] = exp(X[t, h] - M[t])\nL[t] += E[t, h]\nY[t, h] = E[t, h] / L[t]\n"
                ),
                _ => format!(
                    "input X[{t}, {w}]\ninput Z[{t}, {w}]\ninput b[{w}]\noutput Y[{t}, {w}]\n\
                     Y[t, h] = (X[t, h] + b[h]) / (1.0 + exp(-(X[t, h] + b[h]))) * Z[t, h]\n"
                ),
            };
            (text, t * w)
        }
    };
    (format!("{head}{text}"), work as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_parses_at_every_drawn_shape_and_none_is_a_suite_program() {
        let suite: Vec<String> = SUITE.iter().map(|w| body(&crate::print_program(&w.program(Size::Bench)))).collect();
        let mut families = std::collections::BTreeMap::new();
        for seed in 0..1200 {
            let program = corpus_program(seed);
            let family = FAMILIES[(seed % 12) as usize];
            assert_eq!(program.name(), format!("corpus-{family}-{seed}"));
            assert!(!suite.contains(&body(&crate::print_program(&program))), "seed {seed} is a suite program");
            assert!(program.macs() <= MAX_CORPUS_MACS, "seed {seed}: {} MACs", program.macs());
            *families.entry(family).or_insert(0) += 1;
        }
        assert_eq!(families.len(), FAMILIES.len());
        // Seeded: the same seed, the same program.
        assert_eq!(corpus_text(77), corpus_text(77));
        assert_ne!(corpus_text(77), corpus_text(77 + 12));
    }

    #[test]
    fn a_corpus_program_is_found_by_its_name_and_only_by_it() {
        let program = corpus_by_name("corpus-conv3x3-8").unwrap();
        assert_eq!(crate::print_program(&program), crate::print_program(&corpus_program(8)));
        assert!(corpus_by_name("corpus-matmul-8").is_none(), "seed 8 is a conv3x3");
        assert!(corpus_by_name("corpus-conv3x3-08").is_none());
        assert!(corpus_by_name("corpus-conv3x3").is_none());
        assert!(corpus_by_name("gemm-512").is_none());
    }

    #[test]
    fn a_suite_program_is_recognised_under_any_name() {
        let suite: Vec<String> = SUITE.iter().map(|w| body(&crate::print_program(&w.program(Size::Bench)))).collect();
        for w in SUITE {
            let text = crate::print_program(&w.program(Size::Bench)).replace(w.name, "corpus-renamed-1");
            assert!(suite.contains(&body(&text)), "{}", w.name);
        }
        // The suite's programs are all above the corpus's size limit, too.
        assert!(SUITE.iter().all(|w| w.program(Size::Bench).macs() > MAX_CORPUS_MACS));
    }
}
