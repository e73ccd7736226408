//! The three matrix products of a linear layer's forward and backward
//! passes, each accumulating into its output, on `matrixmultiply`'s SGEMM.
//! Every matrix is row-major and dense.

/// `out[t][o] += Σᵢ x[t][i] · w[o][i]`: a linear layer (`w` is `[out][in]`).
pub(crate) fn x_wt(x: &[f32], w: &[f32], t: usize, inputs: usize, outputs: usize, out: &mut [f32]) {
    let (x, w_t) = (Strided { data: x, rows: inputs, cols: 1 }, Strided { data: w, rows: 1, cols: inputs });
    gemm(t, inputs, outputs, 1.0, x, w_t, 1.0, out, outputs);
}

/// `out[t][b] += Σₐ x[t][a] · w[a][b]`: a linear layer's input gradient.
pub(crate) fn x_y(x: &[f32], w: &[f32], t: usize, a: usize, b: usize, out: &mut [f32]) {
    gemm(t, a, b, 1.0, Strided { data: x, rows: a, cols: 1 }, Strided { data: w, rows: b, cols: 1 }, 1.0, out, b);
}

/// `out[a][b] += Σₜ x[t][a] · y[t][b]`: a linear layer's weight gradient.
pub(crate) fn add_xt_y(x: &[f32], y: &[f32], t: usize, a: usize, b: usize, out: &mut [f32]) {
    gemm(a, t, b, 1.0, Strided { data: x, rows: 1, cols: a }, Strided { data: y, rows: b, cols: 1 }, 1.0, out, b);
}

/// A strided matrix view: `data[row * rows + col * cols]`.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
}

/// `c[i][j] = beta · c[i][j] + alpha · Σₗ a[i][l] · b[l][j]` for an
/// `m × k` view `a`, a `k × n` view `b` and `c` at `c_rows` (its columns
/// contiguous): the per-head products of attention, whose operands are
/// column slices of the `[t][dim]` activations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Strided,
    b: Strided,
    beta: f32,
    c: &mut [f32],
    c_rows: usize,
) {
    let reach = |v: &Strided, r: usize, s: usize| (r.max(1) - 1) * v.rows + (s.max(1) - 1) * v.cols;
    assert!(m > 0 && k > 0 && n > 0);
    assert!(reach(&a, m, k) < a.data.len() && reach(&b, k, n) < b.data.len());
    assert!((m - 1) * c_rows + n - 1 < c.len());
    // SAFETY: the asserts bound every index the strides reach.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rows as isize,
            a.cols as isize,
            b.data.as_ptr(),
            b.rows as isize,
            b.cols as isize,
            beta,
            c.as_mut_ptr(),
            c_rows as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_match_their_loops_and_accumulate() {
        let (t, a, b) = (3, 4, 5);
        let x: Vec<f32> = (0..t * a).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..a * b).map(|i| (i as f32 * 0.11).cos()).collect();
        let y: Vec<f32> = (0..t * b).map(|i| (i as f32 * 0.23).sin()).collect();
        let close = |got: &[f32], want: &[f32]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5);
        // x · wᵀ with w read as [b][a].
        let mut got = vec![1.0; t * b];
        x_wt(&x, &w, t, a, b, &mut got);
        let want: Vec<f32> =
            (0..t * b).map(|i| 1.0 + (0..a).map(|k| x[i / b * a + k] * w[i % b * a + k]).sum::<f32>()).collect();
        assert!(close(&got, &want));
        let mut got = vec![1.0; t * b];
        x_y(&x, &w, t, a, b, &mut got);
        let want: Vec<f32> =
            (0..t * b).map(|i| 1.0 + (0..a).map(|k| x[i / b * a + k] * w[k * b + i % b]).sum::<f32>()).collect();
        assert!(close(&got, &want));
        let mut got = vec![1.0; a * b];
        add_xt_y(&x, &y, t, a, b, &mut got);
        let want: Vec<f32> =
            (0..a * b).map(|i| 1.0 + (0..t).map(|s| x[s * a + i / b] * y[s * b + i % b]).sum::<f32>()).collect();
        assert!(close(&got, &want));
    }
}
