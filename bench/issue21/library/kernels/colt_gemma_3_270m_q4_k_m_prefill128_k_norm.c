/* colt scheduled kernel: gemma-3-270m-q4_k_m.prefill128.k-norm */
typedef void (*colt_barrier_fn)(void *ctx);

static inline float colt_exp(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return __builtin_inff();
  float kf = x * 1.44269504f;
  int k = (int)(kf + (kf >= 0.0f ? 0.5f : -0.5f));
  float r = x - (float)k * 0.693145752f - (float)k * 1.42860677e-6f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f
            + r * (0.00833333377f + r * 0.00138888892f)))));
  union { int i; float f; } scale;
  scale.i = (k + 127) << 23;
  return p * scale.f;
}
static inline float colt_max(float a, float b) { return a > b ? a : b; }
static inline float colt_min(float a, float b) { return a < b ? a : b; }
static inline long colt_floordiv(long a, long b) { long q = a / b; return (a % b != 0 && a < 0) ? q - 1 : q; }
static inline long colt_floormod(long a, long b) { long r = a % b; return r < 0 ? r + b : r; }
static inline long colt_minl(long a, long b) { return a < b ? a : b; }

typedef float colt_v16 __attribute__((vector_size(64)));
typedef int colt_vi16 __attribute__((vector_size(64)));
typedef float colt_vu16 __attribute__((vector_size(64), aligned(4), may_alias));
static inline colt_v16 colt_vload16(const float *p) { return *(const colt_vu16 *)p; }
static inline void colt_vstore16(float *p, colt_v16 v) { *(colt_vu16 *)p = v; }
static inline colt_v16 colt_splat16(float x) { return (colt_v16){0} + x; }
static inline colt_vi16 colt_mask16(int c) { return (colt_vi16){0} - (c != 0); }
static inline colt_vi16 colt_iota16(void) { return (colt_vi16){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; }
static inline colt_v16 colt_vsel16(colt_vi16 m, colt_v16 a, colt_v16 b) {
  return (colt_v16)((m & (colt_vi16)a) | (~m & (colt_vi16)b));
}
static inline colt_v16 colt_vmax16(colt_v16 a, colt_v16 b) { return colt_vsel16(a > b, a, b); }
static inline colt_v16 colt_vmin16(colt_v16 a, colt_v16 b) { return colt_vsel16(a < b, a, b); }
static inline colt_v16 colt_vsqrt16(colt_v16 a) {
  for (int i = 0; i < 16; i++) a[i] = __builtin_sqrtf(a[i]);
  return a;
}
static inline colt_v16 colt_vexp16(colt_v16 x) {
  colt_vi16 low = x < colt_splat16(-87.0f), high = x > colt_splat16(88.0f);
  x = colt_vsel16(low | high, colt_splat16(0.0f), x);
  colt_v16 kf = x * 1.44269504f;
  kf = kf + colt_vsel16(kf >= colt_splat16(0.0f), colt_splat16(0.5f), colt_splat16(-0.5f));
  colt_vi16 k = __builtin_convertvector(kf, colt_vi16);
  colt_v16 kr = __builtin_convertvector(k, colt_v16);
  colt_v16 r = x - kr * 0.693145752f - kr * 1.42860677e-6f;
  colt_v16 p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f
                + r * (0.00833333377f + r * 0.00138888892f)))));
  colt_v16 y = p * (colt_v16)((k + 127) << 23);
  y = colt_vsel16(low, colt_splat16(0.0f), y);
  return colt_vsel16(high, colt_splat16(__builtin_inff()), y);
}

void colt_gemma_3_270m_q4_k_m_prefill128_k_norm(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  (void)ntasks; (void)barrier; (void)barrier_ctx; (void)task;
  const float *restrict X = bufs[0];
  const float *restrict g = bufs[1];
  float *restrict SS = bufs[2];
  float *restrict R = bufs[3];
  float *restrict Y = bufs[4];
  float *restrict X_packed_for_SS = bufs[5];
  /* pack X for SS as X_packed_for_SS[256, 128] */
  for (long X_packed_for_SS_p0 = 256L * task / ntasks; X_packed_for_SS_p0 < 256L * (task + 1) / ntasks; X_packed_for_SS_p0++) {
    for (long X_packed_for_SS_p1 = 0; X_packed_for_SS_p1 < 128; X_packed_for_SS_p1++) {
      X_packed_for_SS[X_packed_for_SS_p0 * 128L + X_packed_for_SS_p1 * 1L] = X[X_packed_for_SS_p1 * 256L + X_packed_for_SS_p0 * 1L];
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: SS */
  for (long SS_fused = 2L * task / ntasks; SS_fused < 2L * (task + 1) / ntasks; SS_fused++) {
    long SS_t0 = SS_fused / 1 % 2 * 64;
    long SS_t1 = SS_t0;
    long SS_h0 = 0;
    long SS_t2 = SS_t1;
    if (SS_t2 + 64 <= 128) {
      colt_v16 SS_acc0 = (SS_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&SS[SS_t2]);
      colt_v16 SS_acc1 = (SS_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&SS[(SS_t2 + 16)]);
      colt_v16 SS_acc2 = (SS_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&SS[(SS_t2 + 32)]);
      colt_v16 SS_acc3 = (SS_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&SS[(SS_t2 + 48)]);
      #pragma GCC unroll 4
      for (long SS_h1 = SS_h0; SS_h1 < 256; SS_h1++) {
        SS_acc0 = SS_acc0 + (colt_vload16(&X_packed_for_SS[SS_h1 * 128L + SS_t2]) * colt_vload16(&X_packed_for_SS[SS_h1 * 128L + SS_t2]));
        SS_acc1 = SS_acc1 + (colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 16)]) * colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 16)]));
        SS_acc2 = SS_acc2 + (colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 32)]) * colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 32)]));
        SS_acc3 = SS_acc3 + (colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 48)]) * colt_vload16(&X_packed_for_SS[SS_h1 * 128L + (SS_t2 + 48)]));
      }
      colt_vstore16(&SS[SS_t2], SS_acc0);
      colt_vstore16(&SS[(SS_t2 + 16)], SS_acc1);
      colt_vstore16(&SS[(SS_t2 + 32)], SS_acc2);
      colt_vstore16(&SS[(SS_t2 + 48)], SS_acc3);
    } else {
      if (SS_h0 == 0) {
        for (long SS_t3 = SS_t2; SS_t3 < colt_minl(SS_t2 + 64, 128); SS_t3++) {
          SS[SS_t3] = 0.0f;
        }
      }
      for (long SS_h1 = SS_h0; SS_h1 < 256; SS_h1++) {
        for (long SS_t3 = SS_t2; SS_t3 < colt_minl(SS_t2 + 64, 128); SS_t3++) {
          SS[SS_t3] = SS[SS_t3] + (X_packed_for_SS[SS_h1 * 128L + SS_t3] * X_packed_for_SS[SS_h1 * 128L + SS_t3]);
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: R -> Y */
  for (long Y_fused = 128L * task / ntasks; Y_fused < 128L * (task + 1) / ntasks; Y_fused++) {
    long Y_t0 = Y_fused / 1 % 128 * 1;
    /* R computed here */
    long R_t_lo = Y_t0;
    long R_t_hi = colt_minl(R_t_lo + 1, 128);
    long R_t0 = R_t_lo;
    long R_t1 = R_t0;
    long R_t2 = R_t1;
    if (R_t2 + 64 <= R_t_hi) {
      #pragma GCC unroll 4
      for (long R_t3 = R_t2; R_t3 < R_t2 + 64; R_t3 += 16) {
        colt_vstore16(&R[R_t3], (1.0f / colt_vsqrt16(((colt_vload16(&SS[R_t3]) / 256.0f) + 1e-6f))));
      }
    } else {
      long R_t3 = R_t2;
      R[R_t3] = (1.0f / __builtin_sqrtf(((SS[R_t3] / 256.0f) + 1e-6f)));
    }
    for (long Y_h0 = 0; Y_h0 < 256; Y_h0 += 16) {
      long Y_t1 = Y_t0;
      long Y_h1 = Y_h0;
      long Y_t2 = Y_t1;
      long Y_h2 = Y_h1;
      if (Y_h2 + 16 <= 256) {
        long Y_t3 = Y_t2;
        long Y_h3 = Y_h2;
        colt_vstore16(&Y[Y_t3 * 256L + Y_h3], ((colt_vload16(&X[Y_t3 * 256L + Y_h3]) * R[Y_t3]) * colt_vload16(&g[Y_h3])));
      } else {
        long Y_t3 = Y_t2;
        for (long Y_h3 = Y_h2; Y_h3 < colt_minl(Y_h2 + 16, 256); Y_h3++) {
          Y[Y_t3 * 256L + Y_h3] = ((X[Y_t3 * 256L + Y_h3] * R[Y_t3]) * g[Y_h3]);
        }
      }
    }
  }
}

/* gemma-3-270m-q4_k_m.prefill128.k-norm with named buffers (colt_kernels.h). */
void colt_gemma_3_270m_q4_k_m_prefill128_k_norm_run(const float *X, const float *g, float *SS, float *R, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  float *const bufs[] = {(float *)X, (float *)g, (float *)SS, (float *)R, (float *)Y, scratch + 0};
  colt_gemma_3_270m_q4_k_m_prefill128_k_norm(bufs, task, ntasks, barrier, barrier_ctx);
}
