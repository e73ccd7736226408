/* colt scheduled kernel: gemma-3-270m-q4_k_m.prefill128.mlp */
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

void colt_gemma_3_270m_q4_k_m_prefill128_mlp(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  (void)ntasks; (void)barrier; (void)barrier_ctx; (void)task;
  const float *restrict X = bufs[0];
  const float *restrict Wg = bufs[1];
  const float *restrict Wu = bufs[2];
  const float *restrict Wd = bufs[3];
  float *restrict G = bufs[4];
  float *restrict U = bufs[5];
  float *restrict H = bufs[6];
  float *restrict Y = bufs[7];
  float *restrict Wu_packed_for_U = bufs[8];
  /* phase: G */
  for (long G_fused = 22L * task / ntasks; G_fused < 22L * (task + 1) / ntasks; G_fused++) {
    long G_t0 = G_fused / 22 % 1 * 128;
    long G_f0 = G_fused / 1 % 22 * 96;
    long G_t1 = G_t0;
    long G_f1 = G_f0;
    for (long G_h0 = 0; G_h0 < 640; G_h0 += 80) {
      for (long G_t2 = G_t1; G_t2 < 128; G_t2 += 16) {
        for (long G_f2 = G_f1; G_f2 < colt_minl(G_f1 + 96, 2048); G_f2 += 16) {
          if (G_t2 + 16 <= 128 && G_f2 + 16 <= 2048) {
            colt_v16 G_acc0 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[G_t2 * 2048L + G_f2]);
            colt_v16 G_acc1 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 1) * 2048L + G_f2]);
            colt_v16 G_acc2 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 2) * 2048L + G_f2]);
            colt_v16 G_acc3 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 3) * 2048L + G_f2]);
            colt_v16 G_acc4 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 4) * 2048L + G_f2]);
            colt_v16 G_acc5 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 5) * 2048L + G_f2]);
            colt_v16 G_acc6 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 6) * 2048L + G_f2]);
            colt_v16 G_acc7 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 7) * 2048L + G_f2]);
            colt_v16 G_acc8 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 8) * 2048L + G_f2]);
            colt_v16 G_acc9 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 9) * 2048L + G_f2]);
            colt_v16 G_acc10 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 10) * 2048L + G_f2]);
            colt_v16 G_acc11 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 11) * 2048L + G_f2]);
            colt_v16 G_acc12 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 12) * 2048L + G_f2]);
            colt_v16 G_acc13 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 13) * 2048L + G_f2]);
            colt_v16 G_acc14 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 14) * 2048L + G_f2]);
            colt_v16 G_acc15 = (G_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&G[(G_t2 + 15) * 2048L + G_f2]);
            #pragma GCC unroll 4
            for (long G_h1 = G_h0; G_h1 < colt_minl(G_h0 + 80, 640); G_h1++) {
              G_acc0 = G_acc0 + (X[G_t2 * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc1 = G_acc1 + (X[(G_t2 + 1) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc2 = G_acc2 + (X[(G_t2 + 2) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc3 = G_acc3 + (X[(G_t2 + 3) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc4 = G_acc4 + (X[(G_t2 + 4) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc5 = G_acc5 + (X[(G_t2 + 5) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc6 = G_acc6 + (X[(G_t2 + 6) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc7 = G_acc7 + (X[(G_t2 + 7) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc8 = G_acc8 + (X[(G_t2 + 8) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc9 = G_acc9 + (X[(G_t2 + 9) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc10 = G_acc10 + (X[(G_t2 + 10) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc11 = G_acc11 + (X[(G_t2 + 11) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc12 = G_acc12 + (X[(G_t2 + 12) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc13 = G_acc13 + (X[(G_t2 + 13) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc14 = G_acc14 + (X[(G_t2 + 14) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
              G_acc15 = G_acc15 + (X[(G_t2 + 15) * 640L + G_h1] * colt_vload16(&Wg[G_h1 * 2048L + G_f2]));
            }
            colt_vstore16(&G[G_t2 * 2048L + G_f2], G_acc0);
            colt_vstore16(&G[(G_t2 + 1) * 2048L + G_f2], G_acc1);
            colt_vstore16(&G[(G_t2 + 2) * 2048L + G_f2], G_acc2);
            colt_vstore16(&G[(G_t2 + 3) * 2048L + G_f2], G_acc3);
            colt_vstore16(&G[(G_t2 + 4) * 2048L + G_f2], G_acc4);
            colt_vstore16(&G[(G_t2 + 5) * 2048L + G_f2], G_acc5);
            colt_vstore16(&G[(G_t2 + 6) * 2048L + G_f2], G_acc6);
            colt_vstore16(&G[(G_t2 + 7) * 2048L + G_f2], G_acc7);
            colt_vstore16(&G[(G_t2 + 8) * 2048L + G_f2], G_acc8);
            colt_vstore16(&G[(G_t2 + 9) * 2048L + G_f2], G_acc9);
            colt_vstore16(&G[(G_t2 + 10) * 2048L + G_f2], G_acc10);
            colt_vstore16(&G[(G_t2 + 11) * 2048L + G_f2], G_acc11);
            colt_vstore16(&G[(G_t2 + 12) * 2048L + G_f2], G_acc12);
            colt_vstore16(&G[(G_t2 + 13) * 2048L + G_f2], G_acc13);
            colt_vstore16(&G[(G_t2 + 14) * 2048L + G_f2], G_acc14);
            colt_vstore16(&G[(G_t2 + 15) * 2048L + G_f2], G_acc15);
          } else {
            if (G_h0 == 0) {
              for (long G_t3 = G_t2; G_t3 < colt_minl(G_t2 + 16, 128); G_t3++) {
                for (long G_f3 = G_f2; G_f3 < colt_minl(G_f2 + 16, 2048); G_f3++) {
                  G[G_t3 * 2048L + G_f3] = 0.0f;
                }
              }
            }
            for (long G_h1 = G_h0; G_h1 < colt_minl(G_h0 + 80, 640); G_h1++) {
              for (long G_t3 = G_t2; G_t3 < colt_minl(G_t2 + 16, 128); G_t3++) {
                for (long G_f3 = G_f2; G_f3 < colt_minl(G_f2 + 16, 2048); G_f3++) {
                  G[G_t3 * 2048L + G_f3] = G[G_t3 * 2048L + G_f3] + (X[G_t3 * 640L + G_h1] * Wg[G_h1 * 2048L + G_f3]);
                }
              }
            }
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* pack Wu for U as Wu_packed_for_U[32, 640, 64] */
  for (long Wu_packed_for_U_p0 = 32L * task / ntasks; Wu_packed_for_U_p0 < 32L * (task + 1) / ntasks; Wu_packed_for_U_p0++) {
    for (long Wu_packed_for_U_p1 = 0; Wu_packed_for_U_p1 < 640; Wu_packed_for_U_p1++) {
      for (long Wu_packed_for_U_p2 = 0; Wu_packed_for_U_p2 < 64; Wu_packed_for_U_p2++) {
        Wu_packed_for_U[Wu_packed_for_U_p0 * 40960L + Wu_packed_for_U_p1 * 64L + Wu_packed_for_U_p2 * 1L] = Wu[Wu_packed_for_U_p1 * 2048L + (Wu_packed_for_U_p0 * 64 + Wu_packed_for_U_p2) * 1L];
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: U */
  for (long U_fused = 64L * task / ntasks; U_fused < 64L * (task + 1) / ntasks; U_fused++) {
    long U_t0 = U_fused / 32 % 2 * 64;
    long U_f0 = U_fused / 1 % 32 * 64;
    long U_t1 = U_t0;
    long U_f1 = U_f0;
    for (long U_h0 = 0; U_h0 < 640; U_h0 += 40) {
      for (long U_t2 = U_t1; U_t2 < colt_minl(U_t1 + 64, 128); U_t2 += 4) {
        long U_f2 = U_f1;
        if (U_t2 + 4 <= 128 && U_f2 + 64 <= 2048) {
          colt_v16 U_acc0 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[U_t2 * 2048L + U_f2]);
          colt_v16 U_acc1 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[U_t2 * 2048L + (U_f2 + 16)]);
          colt_v16 U_acc2 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[U_t2 * 2048L + (U_f2 + 32)]);
          colt_v16 U_acc3 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[U_t2 * 2048L + (U_f2 + 48)]);
          colt_v16 U_acc4 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 1) * 2048L + U_f2]);
          colt_v16 U_acc5 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 1) * 2048L + (U_f2 + 16)]);
          colt_v16 U_acc6 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 1) * 2048L + (U_f2 + 32)]);
          colt_v16 U_acc7 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 1) * 2048L + (U_f2 + 48)]);
          colt_v16 U_acc8 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 2) * 2048L + U_f2]);
          colt_v16 U_acc9 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 2) * 2048L + (U_f2 + 16)]);
          colt_v16 U_acc10 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 2) * 2048L + (U_f2 + 32)]);
          colt_v16 U_acc11 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 2) * 2048L + (U_f2 + 48)]);
          colt_v16 U_acc12 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 3) * 2048L + U_f2]);
          colt_v16 U_acc13 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 3) * 2048L + (U_f2 + 16)]);
          colt_v16 U_acc14 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 3) * 2048L + (U_f2 + 32)]);
          colt_v16 U_acc15 = (U_h0 == 0) ? colt_splat16(0.0f) : colt_vload16(&U[(U_t2 + 3) * 2048L + (U_f2 + 48)]);
          #pragma GCC unroll 32
          for (long U_h1 = U_h0; U_h1 < colt_minl(U_h0 + 40, 640); U_h1++) {
            U_acc0 = U_acc0 + (X[U_t2 * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[(U_f2 / 64L) * 40960L + U_h1 * 64L + (U_f2 % 64L)]));
            U_acc1 = U_acc1 + (X[U_t2 * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 16) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 16) % 64L)]));
            U_acc2 = U_acc2 + (X[U_t2 * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 32) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 32) % 64L)]));
            U_acc3 = U_acc3 + (X[U_t2 * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 48) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 48) % 64L)]));
            U_acc4 = U_acc4 + (X[(U_t2 + 1) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[(U_f2 / 64L) * 40960L + U_h1 * 64L + (U_f2 % 64L)]));
            U_acc5 = U_acc5 + (X[(U_t2 + 1) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 16) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 16) % 64L)]));
            U_acc6 = U_acc6 + (X[(U_t2 + 1) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 32) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 32) % 64L)]));
            U_acc7 = U_acc7 + (X[(U_t2 + 1) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 48) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 48) % 64L)]));
            U_acc8 = U_acc8 + (X[(U_t2 + 2) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[(U_f2 / 64L) * 40960L + U_h1 * 64L + (U_f2 % 64L)]));
            U_acc9 = U_acc9 + (X[(U_t2 + 2) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 16) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 16) % 64L)]));
            U_acc10 = U_acc10 + (X[(U_t2 + 2) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 32) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 32) % 64L)]));
            U_acc11 = U_acc11 + (X[(U_t2 + 2) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 48) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 48) % 64L)]));
            U_acc12 = U_acc12 + (X[(U_t2 + 3) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[(U_f2 / 64L) * 40960L + U_h1 * 64L + (U_f2 % 64L)]));
            U_acc13 = U_acc13 + (X[(U_t2 + 3) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 16) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 16) % 64L)]));
            U_acc14 = U_acc14 + (X[(U_t2 + 3) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 32) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 32) % 64L)]));
            U_acc15 = U_acc15 + (X[(U_t2 + 3) * 640L + U_h1] * colt_vload16(&Wu_packed_for_U[((U_f2 + 48) / 64L) * 40960L + U_h1 * 64L + ((U_f2 + 48) % 64L)]));
          }
          colt_vstore16(&U[U_t2 * 2048L + U_f2], U_acc0);
          colt_vstore16(&U[U_t2 * 2048L + (U_f2 + 16)], U_acc1);
          colt_vstore16(&U[U_t2 * 2048L + (U_f2 + 32)], U_acc2);
          colt_vstore16(&U[U_t2 * 2048L + (U_f2 + 48)], U_acc3);
          colt_vstore16(&U[(U_t2 + 1) * 2048L + U_f2], U_acc4);
          colt_vstore16(&U[(U_t2 + 1) * 2048L + (U_f2 + 16)], U_acc5);
          colt_vstore16(&U[(U_t2 + 1) * 2048L + (U_f2 + 32)], U_acc6);
          colt_vstore16(&U[(U_t2 + 1) * 2048L + (U_f2 + 48)], U_acc7);
          colt_vstore16(&U[(U_t2 + 2) * 2048L + U_f2], U_acc8);
          colt_vstore16(&U[(U_t2 + 2) * 2048L + (U_f2 + 16)], U_acc9);
          colt_vstore16(&U[(U_t2 + 2) * 2048L + (U_f2 + 32)], U_acc10);
          colt_vstore16(&U[(U_t2 + 2) * 2048L + (U_f2 + 48)], U_acc11);
          colt_vstore16(&U[(U_t2 + 3) * 2048L + U_f2], U_acc12);
          colt_vstore16(&U[(U_t2 + 3) * 2048L + (U_f2 + 16)], U_acc13);
          colt_vstore16(&U[(U_t2 + 3) * 2048L + (U_f2 + 32)], U_acc14);
          colt_vstore16(&U[(U_t2 + 3) * 2048L + (U_f2 + 48)], U_acc15);
        } else {
          if (U_h0 == 0) {
            for (long U_t3 = U_t2; U_t3 < colt_minl(U_t2 + 4, 128); U_t3++) {
              for (long U_f3 = U_f2; U_f3 < colt_minl(U_f2 + 64, 2048); U_f3++) {
                U[U_t3 * 2048L + U_f3] = 0.0f;
              }
            }
          }
          for (long U_h1 = U_h0; U_h1 < colt_minl(U_h0 + 40, 640); U_h1++) {
            for (long U_t3 = U_t2; U_t3 < colt_minl(U_t2 + 4, 128); U_t3++) {
              for (long U_f3 = U_f2; U_f3 < colt_minl(U_f2 + 64, 2048); U_f3++) {
                U[U_t3 * 2048L + U_f3] = U[U_t3 * 2048L + U_f3] + (X[U_t3 * 640L + U_h1] * Wu_packed_for_U[(U_f3 / 64L) * 40960L + U_h1 * 64L + (U_f3 % 64L)]);
              }
            }
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: H */
  for (long H_fused = 128L * task / ntasks; H_fused < 128L * (task + 1) / ntasks; H_fused++) {
    long H_t0 = H_fused / 1 % 128 * 1;
    for (long H_f0 = 0; H_f0 < 2048; H_f0 += 32) {
      long H_t1 = H_t0;
      long H_f1 = H_f0;
      long H_t2 = H_t1;
      long H_f2 = H_f1;
      if (H_f2 + 32 <= 2048) {
        long H_t3 = H_t2;
        for (long H_f3 = H_f2; H_f3 < H_f2 + 32; H_f3 += 16) {
          colt_vstore16(&H[H_t3 * 2048L + H_f3], (((0.5f * colt_vload16(&G[H_t3 * 2048L + H_f3])) * (1.0f + (1.0f - (2.0f / (1.0f + colt_vexp16((2.0f * (0.7978846f * (colt_vload16(&G[H_t3 * 2048L + H_f3]) + (((0.044715f * colt_vload16(&G[H_t3 * 2048L + H_f3])) * colt_vload16(&G[H_t3 * 2048L + H_f3])) * colt_vload16(&G[H_t3 * 2048L + H_f3]))))))))))) * colt_vload16(&U[H_t3 * 2048L + H_f3])));
        }
      } else {
        long H_t3 = H_t2;
        for (long H_f3 = H_f2; H_f3 < colt_minl(H_f2 + 32, 2048); H_f3++) {
          H[H_t3 * 2048L + H_f3] = (((0.5f * G[H_t3 * 2048L + H_f3]) * (1.0f + (1.0f - (2.0f / (1.0f + colt_exp((2.0f * (0.7978846f * (G[H_t3 * 2048L + H_f3] + (((0.044715f * G[H_t3 * 2048L + H_f3]) * G[H_t3 * 2048L + H_f3]) * G[H_t3 * 2048L + H_f3])))))))))) * U[H_t3 * 2048L + H_f3]);
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: Y */
  for (long Y_fused = 2L * task / ntasks; Y_fused < 2L * (task + 1) / ntasks; Y_fused++) {
    long Y_t0 = Y_fused / 1 % 2 * 72;
    for (long Y_h0 = 0; Y_h0 < 640; Y_h0 += 128) {
      long Y_t1 = Y_t0;
      long Y_h1 = Y_h0;
      for (long Y_f0 = 0; Y_f0 < 2048; Y_f0 += 24) {
        for (long Y_t2 = Y_t1; Y_t2 < colt_minl(Y_t1 + 72, 128); Y_t2 += 6) {
          for (long Y_h2 = Y_h1; Y_h2 < colt_minl(Y_h1 + 128, 640); Y_h2 += 64) {
            if (Y_t2 + 6 <= 128 && Y_h2 + 64 <= 640) {
              colt_v16 Y_acc0 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[Y_t2 * 640L + Y_h2]);
              colt_v16 Y_acc1 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[Y_t2 * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc2 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[Y_t2 * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc3 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[Y_t2 * 640L + (Y_h2 + 48)]);
              colt_v16 Y_acc4 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 1) * 640L + Y_h2]);
              colt_v16 Y_acc5 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc6 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc7 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 48)]);
              colt_v16 Y_acc8 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 2) * 640L + Y_h2]);
              colt_v16 Y_acc9 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc10 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc11 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 48)]);
              colt_v16 Y_acc12 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 3) * 640L + Y_h2]);
              colt_v16 Y_acc13 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc14 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc15 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 48)]);
              colt_v16 Y_acc16 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 4) * 640L + Y_h2]);
              colt_v16 Y_acc17 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc18 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc19 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 48)]);
              colt_v16 Y_acc20 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 5) * 640L + Y_h2]);
              colt_v16 Y_acc21 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 16)]);
              colt_v16 Y_acc22 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 32)]);
              colt_v16 Y_acc23 = (Y_f0 == 0) ? colt_splat16(0.0f) : colt_vload16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 48)]);
              #pragma GCC unroll 2
              for (long Y_f1 = Y_f0; Y_f1 < colt_minl(Y_f0 + 24, 2048); Y_f1++) {
                Y_acc0 = Y_acc0 + (H[Y_t2 * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc1 = Y_acc1 + (H[Y_t2 * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc2 = Y_acc2 + (H[Y_t2 * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc3 = Y_acc3 + (H[Y_t2 * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
                Y_acc4 = Y_acc4 + (H[(Y_t2 + 1) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc5 = Y_acc5 + (H[(Y_t2 + 1) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc6 = Y_acc6 + (H[(Y_t2 + 1) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc7 = Y_acc7 + (H[(Y_t2 + 1) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
                Y_acc8 = Y_acc8 + (H[(Y_t2 + 2) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc9 = Y_acc9 + (H[(Y_t2 + 2) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc10 = Y_acc10 + (H[(Y_t2 + 2) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc11 = Y_acc11 + (H[(Y_t2 + 2) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
                Y_acc12 = Y_acc12 + (H[(Y_t2 + 3) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc13 = Y_acc13 + (H[(Y_t2 + 3) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc14 = Y_acc14 + (H[(Y_t2 + 3) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc15 = Y_acc15 + (H[(Y_t2 + 3) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
                Y_acc16 = Y_acc16 + (H[(Y_t2 + 4) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc17 = Y_acc17 + (H[(Y_t2 + 4) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc18 = Y_acc18 + (H[(Y_t2 + 4) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc19 = Y_acc19 + (H[(Y_t2 + 4) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
                Y_acc20 = Y_acc20 + (H[(Y_t2 + 5) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + Y_h2]));
                Y_acc21 = Y_acc21 + (H[(Y_t2 + 5) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 16)]));
                Y_acc22 = Y_acc22 + (H[(Y_t2 + 5) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 32)]));
                Y_acc23 = Y_acc23 + (H[(Y_t2 + 5) * 2048L + Y_f1] * colt_vload16(&Wd[Y_f1 * 640L + (Y_h2 + 48)]));
              }
              colt_vstore16(&Y[Y_t2 * 640L + Y_h2], Y_acc0);
              colt_vstore16(&Y[Y_t2 * 640L + (Y_h2 + 16)], Y_acc1);
              colt_vstore16(&Y[Y_t2 * 640L + (Y_h2 + 32)], Y_acc2);
              colt_vstore16(&Y[Y_t2 * 640L + (Y_h2 + 48)], Y_acc3);
              colt_vstore16(&Y[(Y_t2 + 1) * 640L + Y_h2], Y_acc4);
              colt_vstore16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 16)], Y_acc5);
              colt_vstore16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 32)], Y_acc6);
              colt_vstore16(&Y[(Y_t2 + 1) * 640L + (Y_h2 + 48)], Y_acc7);
              colt_vstore16(&Y[(Y_t2 + 2) * 640L + Y_h2], Y_acc8);
              colt_vstore16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 16)], Y_acc9);
              colt_vstore16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 32)], Y_acc10);
              colt_vstore16(&Y[(Y_t2 + 2) * 640L + (Y_h2 + 48)], Y_acc11);
              colt_vstore16(&Y[(Y_t2 + 3) * 640L + Y_h2], Y_acc12);
              colt_vstore16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 16)], Y_acc13);
              colt_vstore16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 32)], Y_acc14);
              colt_vstore16(&Y[(Y_t2 + 3) * 640L + (Y_h2 + 48)], Y_acc15);
              colt_vstore16(&Y[(Y_t2 + 4) * 640L + Y_h2], Y_acc16);
              colt_vstore16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 16)], Y_acc17);
              colt_vstore16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 32)], Y_acc18);
              colt_vstore16(&Y[(Y_t2 + 4) * 640L + (Y_h2 + 48)], Y_acc19);
              colt_vstore16(&Y[(Y_t2 + 5) * 640L + Y_h2], Y_acc20);
              colt_vstore16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 16)], Y_acc21);
              colt_vstore16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 32)], Y_acc22);
              colt_vstore16(&Y[(Y_t2 + 5) * 640L + (Y_h2 + 48)], Y_acc23);
            } else {
              if (Y_f0 == 0) {
                for (long Y_t3 = Y_t2; Y_t3 < colt_minl(Y_t2 + 6, 128); Y_t3++) {
                  for (long Y_h3 = Y_h2; Y_h3 < colt_minl(Y_h2 + 64, 640); Y_h3++) {
                    Y[Y_t3 * 640L + Y_h3] = 0.0f;
                  }
                }
              }
              for (long Y_f1 = Y_f0; Y_f1 < colt_minl(Y_f0 + 24, 2048); Y_f1++) {
                for (long Y_t3 = Y_t2; Y_t3 < colt_minl(Y_t2 + 6, 128); Y_t3++) {
                  for (long Y_h3 = Y_h2; Y_h3 < colt_minl(Y_h2 + 64, 640); Y_h3++) {
                    Y[Y_t3 * 640L + Y_h3] = Y[Y_t3 * 640L + Y_h3] + (H[Y_t3 * 2048L + Y_f1] * Wd[Y_f1 * 640L + Y_h3]);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/* gemma-3-270m-q4_k_m.prefill128.mlp with named buffers (colt_kernels.h). */
void colt_gemma_3_270m_q4_k_m_prefill128_mlp_run(const float *X, const float *Wg, const float *Wu, const float *Wd, float *G, float *U, float *H, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  float *const bufs[] = {(float *)X, (float *)Wg, (float *)Wu, (float *)Wd, (float *)G, (float *)U, (float *)H, (float *)Y, scratch + 0};
  colt_gemma_3_270m_q4_k_m_prefill128_mlp(bufs, task, ntasks, barrier, barrier_ctx);
}
