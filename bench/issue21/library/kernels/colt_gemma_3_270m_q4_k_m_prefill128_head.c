/* colt scheduled kernel: gemma-3-270m-q4_k_m.prefill128.head */
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

void colt_gemma_3_270m_q4_k_m_prefill128_head(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  (void)ntasks; (void)barrier; (void)barrier_ctx; (void)task;
  const float *restrict A = bufs[0];
  const float *restrict B = bufs[1];
  float *restrict C = bufs[2];
  /* phase: C */
  for (long C_fused = 512L * task / ntasks; C_fused < 512L * (task + 1) / ntasks; C_fused++) {
    long C_i0 = C_fused / 512 % 1 * 1;
    long C_j0 = C_fused / 1 % 512 * 512;
    long C_i1 = C_i0;
    long C_j1 = C_j0;
    for (long C_k0 = 0; C_k0 < 640; C_k0 += 32) {
      long C_i2 = C_i1;
      for (long C_j2 = C_j1; C_j2 < colt_minl(C_j1 + 512, 262144); C_j2 += 32) {
        if (C_j2 + 32 <= 262144) {
          colt_v16 C_acc0 = (C_k0 == 0) ? colt_splat16(0.0f) : colt_vload16(&C[C_i2 * 262144L + C_j2]);
          colt_v16 C_acc1 = (C_k0 == 0) ? colt_splat16(0.0f) : colt_vload16(&C[C_i2 * 262144L + (C_j2 + 16)]);
          #pragma GCC unroll 32
          for (long C_k1 = C_k0; C_k1 < colt_minl(C_k0 + 32, 640); C_k1++) {
            C_acc0 = C_acc0 + (A[C_i2 * 640L + C_k1] * colt_vload16(&B[C_k1 * 262144L + C_j2]));
            C_acc1 = C_acc1 + (A[C_i2 * 640L + C_k1] * colt_vload16(&B[C_k1 * 262144L + (C_j2 + 16)]));
          }
          colt_vstore16(&C[C_i2 * 262144L + C_j2], C_acc0);
          colt_vstore16(&C[C_i2 * 262144L + (C_j2 + 16)], C_acc1);
        } else {
          if (C_k0 == 0) {
            long C_i3 = C_i2;
            for (long C_j3 = C_j2; C_j3 < colt_minl(C_j2 + 32, 262144); C_j3++) {
              C[C_i3 * 262144L + C_j3] = 0.0f;
            }
          }
          for (long C_k1 = C_k0; C_k1 < colt_minl(C_k0 + 32, 640); C_k1++) {
            long C_i3 = C_i2;
            for (long C_j3 = C_j2; C_j3 < colt_minl(C_j2 + 32, 262144); C_j3++) {
              C[C_i3 * 262144L + C_j3] = C[C_i3 * 262144L + C_j3] + (A[C_i3 * 640L + C_k1] * B[C_k1 * 262144L + C_j3]);
            }
          }
        }
      }
    }
  }
}

/* gemma-3-270m-q4_k_m.prefill128.head with named buffers (colt_kernels.h). */
void colt_gemma_3_270m_q4_k_m_prefill128_head_run(const float *A, const float *B, float *C, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  float *const bufs[] = {(float *)A, (float *)B, (float *)C};
  colt_gemma_3_270m_q4_k_m_prefill128_head(bufs, task, ntasks, barrier, barrier_ctx);
}
