/* colt scheduled kernel: gemma-3-270m-q4_k_m.prefill128.attention */
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

void colt_gemma_3_270m_q4_k_m_prefill128_attention(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  (void)ntasks; (void)barrier; (void)barrier_ctx; (void)task;
  const float *restrict Q = bufs[0];
  const float *restrict K = bufs[1];
  const float *restrict V = bufs[2];
  float *restrict QK = bufs[3];
  float *restrict S = bufs[4];
  float *restrict M = bufs[5];
  float *restrict E = bufs[6];
  float *restrict L = bufs[7];
  float *restrict P = bufs[8];
  float *restrict O = bufs[9];
  float *restrict K_packed_for_QK = bufs[10];
  float *restrict QK_packed_for_M = bufs[11];
  float *restrict E_packed_for_L = bufs[12];
  /* pack K for QK as K_packed_for_QK[1, 256, 128] */
  for (long K_packed_for_QK_p0 = 1L * task / ntasks; K_packed_for_QK_p0 < 1L * (task + 1) / ntasks; K_packed_for_QK_p0++) {
    for (long K_packed_for_QK_p1 = 0; K_packed_for_QK_p1 < 256; K_packed_for_QK_p1++) {
      for (long K_packed_for_QK_p2 = 0; K_packed_for_QK_p2 < 128; K_packed_for_QK_p2++) {
        K_packed_for_QK[K_packed_for_QK_p0 * 32768L + K_packed_for_QK_p1 * 128L + K_packed_for_QK_p2 * 1L] = K[K_packed_for_QK_p0 * 32768L + K_packed_for_QK_p2 * 256L + K_packed_for_QK_p1 * 1L];
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: QK */
  for (long QK_fused = 4L * task / ntasks; QK_fused < 4L * (task + 1) / ntasks; QK_fused++) {
    long QK_h0 = QK_fused / 1 % 4 * 1;
    for (long QK_i0 = 0; QK_i0 < 128; QK_i0 += 60) {
      for (long QK_j0 = 0; QK_j0 < 128; QK_j0 += 64) {
        long QK_h1 = QK_h0;
        long QK_i1 = QK_i0;
        long QK_j1 = QK_j0;
        for (long QK_d0 = 0; QK_d0 < 256; QK_d0 += 64) {
          long QK_h2 = QK_h1;
          for (long QK_i2 = QK_i1; QK_i2 < colt_minl(QK_i1 + 60, 128); QK_i2 += 5) {
            long QK_j2 = QK_j1;
            if (QK_i2 + 5 <= 128 && QK_j2 + 64 <= 128) {
              colt_v16 QK_acc0 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + QK_i2 * 128L + QK_j2]);
              colt_v16 QK_acc1 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 16)]);
              colt_v16 QK_acc2 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 32)]);
              colt_v16 QK_acc3 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 48)]);
              colt_v16 QK_acc4 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + QK_j2]);
              colt_v16 QK_acc5 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 16)]);
              colt_v16 QK_acc6 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 32)]);
              colt_v16 QK_acc7 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 48)]);
              colt_v16 QK_acc8 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + QK_j2]);
              colt_v16 QK_acc9 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 16)]);
              colt_v16 QK_acc10 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 32)]);
              colt_v16 QK_acc11 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 48)]);
              colt_v16 QK_acc12 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + QK_j2]);
              colt_v16 QK_acc13 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 16)]);
              colt_v16 QK_acc14 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 32)]);
              colt_v16 QK_acc15 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 48)]);
              colt_v16 QK_acc16 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + QK_j2]);
              colt_v16 QK_acc17 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 16)]);
              colt_v16 QK_acc18 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 32)]);
              colt_v16 QK_acc19 = (QK_d0 == 0) ? colt_splat16(0.0f) : colt_vload16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 48)]);
              #pragma GCC unroll 3
              for (long QK_d1 = QK_d0; QK_d1 < colt_minl(QK_d0 + 64, 256); QK_d1++) {
                QK_acc0 = QK_acc0 + (Q[QK_h2 * 32768L + QK_i2 * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + QK_j2]));
                QK_acc1 = QK_acc1 + (Q[QK_h2 * 32768L + QK_i2 * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 16)]));
                QK_acc2 = QK_acc2 + (Q[QK_h2 * 32768L + QK_i2 * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 32)]));
                QK_acc3 = QK_acc3 + (Q[QK_h2 * 32768L + QK_i2 * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 48)]));
                QK_acc4 = QK_acc4 + (Q[QK_h2 * 32768L + (QK_i2 + 1) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + QK_j2]));
                QK_acc5 = QK_acc5 + (Q[QK_h2 * 32768L + (QK_i2 + 1) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 16)]));
                QK_acc6 = QK_acc6 + (Q[QK_h2 * 32768L + (QK_i2 + 1) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 32)]));
                QK_acc7 = QK_acc7 + (Q[QK_h2 * 32768L + (QK_i2 + 1) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 48)]));
                QK_acc8 = QK_acc8 + (Q[QK_h2 * 32768L + (QK_i2 + 2) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + QK_j2]));
                QK_acc9 = QK_acc9 + (Q[QK_h2 * 32768L + (QK_i2 + 2) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 16)]));
                QK_acc10 = QK_acc10 + (Q[QK_h2 * 32768L + (QK_i2 + 2) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 32)]));
                QK_acc11 = QK_acc11 + (Q[QK_h2 * 32768L + (QK_i2 + 2) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 48)]));
                QK_acc12 = QK_acc12 + (Q[QK_h2 * 32768L + (QK_i2 + 3) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + QK_j2]));
                QK_acc13 = QK_acc13 + (Q[QK_h2 * 32768L + (QK_i2 + 3) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 16)]));
                QK_acc14 = QK_acc14 + (Q[QK_h2 * 32768L + (QK_i2 + 3) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 32)]));
                QK_acc15 = QK_acc15 + (Q[QK_h2 * 32768L + (QK_i2 + 3) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 48)]));
                QK_acc16 = QK_acc16 + (Q[QK_h2 * 32768L + (QK_i2 + 4) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + QK_j2]));
                QK_acc17 = QK_acc17 + (Q[QK_h2 * 32768L + (QK_i2 + 4) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 16)]));
                QK_acc18 = QK_acc18 + (Q[QK_h2 * 32768L + (QK_i2 + 4) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 32)]));
                QK_acc19 = QK_acc19 + (Q[QK_h2 * 32768L + (QK_i2 + 4) * 256L + QK_d1] * colt_vload16(&K_packed_for_QK[(QK_h2 / 4L) * 32768L + QK_d1 * 128L + (QK_j2 + 48)]));
              }
              colt_vstore16(&QK[QK_h2 * 16384L + QK_i2 * 128L + QK_j2], QK_acc0);
              colt_vstore16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 16)], QK_acc1);
              colt_vstore16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 32)], QK_acc2);
              colt_vstore16(&QK[QK_h2 * 16384L + QK_i2 * 128L + (QK_j2 + 48)], QK_acc3);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + QK_j2], QK_acc4);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 16)], QK_acc5);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 32)], QK_acc6);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 1) * 128L + (QK_j2 + 48)], QK_acc7);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + QK_j2], QK_acc8);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 16)], QK_acc9);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 32)], QK_acc10);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 2) * 128L + (QK_j2 + 48)], QK_acc11);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + QK_j2], QK_acc12);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 16)], QK_acc13);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 32)], QK_acc14);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 3) * 128L + (QK_j2 + 48)], QK_acc15);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + QK_j2], QK_acc16);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 16)], QK_acc17);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 32)], QK_acc18);
              colt_vstore16(&QK[QK_h2 * 16384L + (QK_i2 + 4) * 128L + (QK_j2 + 48)], QK_acc19);
            } else {
              if (QK_d0 == 0) {
                long QK_h3 = QK_h2;
                for (long QK_i3 = QK_i2; QK_i3 < colt_minl(QK_i2 + 5, 128); QK_i3++) {
                  for (long QK_j3 = QK_j2; QK_j3 < colt_minl(QK_j2 + 64, 128); QK_j3++) {
                    QK[QK_h3 * 16384L + QK_i3 * 128L + QK_j3] = 0.0f;
                  }
                }
              }
              for (long QK_d1 = QK_d0; QK_d1 < colt_minl(QK_d0 + 64, 256); QK_d1++) {
                long QK_h3 = QK_h2;
                for (long QK_i3 = QK_i2; QK_i3 < colt_minl(QK_i2 + 5, 128); QK_i3++) {
                  for (long QK_j3 = QK_j2; QK_j3 < colt_minl(QK_j2 + 64, 128); QK_j3++) {
                    QK[QK_h3 * 16384L + QK_i3 * 128L + QK_j3] = QK[QK_h3 * 16384L + QK_i3 * 128L + QK_j3] + (Q[QK_h3 * 32768L + QK_i3 * 256L + QK_d1] * K_packed_for_QK[(QK_h3 / 4L) * 32768L + QK_d1 * 128L + QK_j3]);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* pack QK for M as QK_packed_for_M[4, 128, 128] */
  for (long QK_packed_for_M_p0 = 4L * task / ntasks; QK_packed_for_M_p0 < 4L * (task + 1) / ntasks; QK_packed_for_M_p0++) {
    for (long QK_packed_for_M_p1 = 0; QK_packed_for_M_p1 < 128; QK_packed_for_M_p1++) {
      for (long QK_packed_for_M_p2 = 0; QK_packed_for_M_p2 < 128; QK_packed_for_M_p2++) {
        QK_packed_for_M[QK_packed_for_M_p0 * 16384L + QK_packed_for_M_p1 * 128L + QK_packed_for_M_p2 * 1L] = QK[QK_packed_for_M_p0 * 16384L + QK_packed_for_M_p2 * 128L + QK_packed_for_M_p1 * 1L];
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: M */
  for (long M_fused = 4L * task / ntasks; M_fused < 4L * (task + 1) / ntasks; M_fused++) {
    long M_h0 = M_fused / 1 % 4 * 1;
    for (long M_i0 = 0; M_i0 < 128; M_i0 += 64) {
      long M_h1 = M_h0;
      long M_i1 = M_i0;
      for (long M_j0 = 0; M_j0 < 128; M_j0 += 64) {
        long M_h2 = M_h1;
        long M_i2 = M_i1;
        if (M_i2 + 64 <= 128) {
          colt_v16 M_acc0 = (M_j0 == 0) ? colt_splat16((-__builtin_inff())) : colt_vload16(&M[M_h2 * 128L + M_i2]);
          colt_v16 M_acc1 = (M_j0 == 0) ? colt_splat16((-__builtin_inff())) : colt_vload16(&M[M_h2 * 128L + (M_i2 + 16)]);
          colt_v16 M_acc2 = (M_j0 == 0) ? colt_splat16((-__builtin_inff())) : colt_vload16(&M[M_h2 * 128L + (M_i2 + 32)]);
          colt_v16 M_acc3 = (M_j0 == 0) ? colt_splat16((-__builtin_inff())) : colt_vload16(&M[M_h2 * 128L + (M_i2 + 48)]);
          #pragma GCC unroll 16
          for (long M_j1 = M_j0; M_j1 < colt_minl(M_j0 + 64, 128); M_j1++) {
            M_acc0 = colt_vmax16(M_acc0, colt_vsel16(((colt_iota16() * 0 + (int)(M_j1)) <= (colt_iota16() * 1 + (int)(M_i2))), (colt_vload16(&QK_packed_for_M[M_h2 * 16384L + M_j1 * 128L + M_i2]) / __builtin_sqrtf(256.0f)), colt_splat16((-__builtin_inff()))));
            M_acc1 = colt_vmax16(M_acc1, colt_vsel16(((colt_iota16() * 0 + (int)(M_j1)) <= (colt_iota16() * 1 + (int)((M_i2 + 16)))), (colt_vload16(&QK_packed_for_M[M_h2 * 16384L + M_j1 * 128L + (M_i2 + 16)]) / __builtin_sqrtf(256.0f)), colt_splat16((-__builtin_inff()))));
            M_acc2 = colt_vmax16(M_acc2, colt_vsel16(((colt_iota16() * 0 + (int)(M_j1)) <= (colt_iota16() * 1 + (int)((M_i2 + 32)))), (colt_vload16(&QK_packed_for_M[M_h2 * 16384L + M_j1 * 128L + (M_i2 + 32)]) / __builtin_sqrtf(256.0f)), colt_splat16((-__builtin_inff()))));
            M_acc3 = colt_vmax16(M_acc3, colt_vsel16(((colt_iota16() * 0 + (int)(M_j1)) <= (colt_iota16() * 1 + (int)((M_i2 + 48)))), (colt_vload16(&QK_packed_for_M[M_h2 * 16384L + M_j1 * 128L + (M_i2 + 48)]) / __builtin_sqrtf(256.0f)), colt_splat16((-__builtin_inff()))));
          }
          colt_vstore16(&M[M_h2 * 128L + M_i2], M_acc0);
          colt_vstore16(&M[M_h2 * 128L + (M_i2 + 16)], M_acc1);
          colt_vstore16(&M[M_h2 * 128L + (M_i2 + 32)], M_acc2);
          colt_vstore16(&M[M_h2 * 128L + (M_i2 + 48)], M_acc3);
        } else {
          if (M_j0 == 0) {
            long M_h3 = M_h2;
            for (long M_i3 = M_i2; M_i3 < colt_minl(M_i2 + 64, 128); M_i3++) {
              M[M_h3 * 128L + M_i3] = (-__builtin_inff());
            }
          }
          for (long M_j1 = M_j0; M_j1 < colt_minl(M_j0 + 64, 128); M_j1++) {
            long M_h3 = M_h2;
            for (long M_i3 = M_i2; M_i3 < colt_minl(M_i2 + 64, 128); M_i3++) {
              M[M_h3 * 128L + M_i3] = colt_max(M[M_h3 * 128L + M_i3], ((M_j1 <= M_i3) ? (QK_packed_for_M[M_h3 * 16384L + M_j1 * 128L + M_i3] / __builtin_sqrtf(256.0f)) : (-__builtin_inff())));
            }
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: E */
  for (long E_fused = 4L * task / ntasks; E_fused < 4L * (task + 1) / ntasks; E_fused++) {
    long E_h0 = E_fused / 1 % 4 * 1;
    for (long E_i0 = 0; E_i0 < 128; E_i0++) {
      for (long E_j0 = 0; E_j0 < 128; E_j0 += 32) {
        long E_h1 = E_h0;
        long E_i1 = E_i0;
        long E_j1 = E_j0;
        long E_h2 = E_h1;
        long E_i2 = E_i1;
        long E_j2 = E_j1;
        if (E_j2 + 32 <= 128) {
          long E_h3 = E_h2;
          long E_i3 = E_i2;
          #pragma GCC unroll 2
          for (long E_j3 = E_j2; E_j3 < E_j2 + 32; E_j3 += 16) {
            colt_vstore16(&E[E_h3 * 16384L + E_i3 * 128L + E_j3], colt_vexp16((colt_vsel16(((colt_iota16() * 1 + (int)(E_j3)) <= (colt_iota16() * 0 + (int)(E_i3))), (colt_vload16(&QK[E_h3 * 16384L + E_i3 * 128L + E_j3]) / __builtin_sqrtf(256.0f)), colt_splat16((-__builtin_inff()))) - M[E_h3 * 128L + E_i3])));
          }
        } else {
          long E_h3 = E_h2;
          long E_i3 = E_i2;
          for (long E_j3 = E_j2; E_j3 < colt_minl(E_j2 + 32, 128); E_j3++) {
            E[E_h3 * 16384L + E_i3 * 128L + E_j3] = colt_exp((((E_j3 <= E_i3) ? (QK[E_h3 * 16384L + E_i3 * 128L + E_j3] / __builtin_sqrtf(256.0f)) : (-__builtin_inff())) - M[E_h3 * 128L + E_i3]));
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* pack E for L as E_packed_for_L[4, 128, 128] */
  for (long E_packed_for_L_p0 = 4L * task / ntasks; E_packed_for_L_p0 < 4L * (task + 1) / ntasks; E_packed_for_L_p0++) {
    for (long E_packed_for_L_p1 = 0; E_packed_for_L_p1 < 128; E_packed_for_L_p1++) {
      for (long E_packed_for_L_p2 = 0; E_packed_for_L_p2 < 128; E_packed_for_L_p2++) {
        E_packed_for_L[E_packed_for_L_p0 * 16384L + E_packed_for_L_p1 * 128L + E_packed_for_L_p2 * 1L] = E[E_packed_for_L_p0 * 16384L + E_packed_for_L_p2 * 128L + E_packed_for_L_p1 * 1L];
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: L */
  for (long L_fused = 4L * task / ntasks; L_fused < 4L * (task + 1) / ntasks; L_fused++) {
    long L_h0 = L_fused / 1 % 4 * 1;
    for (long L_i0 = 0; L_i0 < 128; L_i0 += 16) {
      long L_h1 = L_h0;
      long L_i1 = L_i0;
      for (long L_j0 = 0; L_j0 < 128; L_j0 += 32) {
        long L_h2 = L_h1;
        long L_i2 = L_i1;
        if (L_i2 + 16 <= 128) {
          colt_v16 L_acc0 = (L_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&L[L_h2 * 128L + L_i2]);
          #pragma GCC unroll 16
          for (long L_j1 = L_j0; L_j1 < colt_minl(L_j0 + 32, 128); L_j1++) {
            L_acc0 = L_acc0 + colt_vload16(&E_packed_for_L[L_h2 * 16384L + L_j1 * 128L + L_i2]);
          }
          colt_vstore16(&L[L_h2 * 128L + L_i2], L_acc0);
        } else {
          if (L_j0 == 0) {
            long L_h3 = L_h2;
            for (long L_i3 = L_i2; L_i3 < colt_minl(L_i2 + 16, 128); L_i3++) {
              L[L_h3 * 128L + L_i3] = 0.0f;
            }
          }
          for (long L_j1 = L_j0; L_j1 < colt_minl(L_j0 + 32, 128); L_j1++) {
            long L_h3 = L_h2;
            for (long L_i3 = L_i2; L_i3 < colt_minl(L_i2 + 16, 128); L_i3++) {
              L[L_h3 * 128L + L_i3] = L[L_h3 * 128L + L_i3] + E_packed_for_L[L_h3 * 16384L + L_j1 * 128L + L_i3];
            }
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: P */
  for (long P_fused = 4L * task / ntasks; P_fused < 4L * (task + 1) / ntasks; P_fused++) {
    long P_h0 = P_fused / 1 % 4 * 1;
    for (long P_i0 = 0; P_i0 < 128; P_i0++) {
      for (long P_j0 = 0; P_j0 < 128; P_j0 += 32) {
        long P_h1 = P_h0;
        long P_i1 = P_i0;
        long P_j1 = P_j0;
        long P_h2 = P_h1;
        long P_i2 = P_i1;
        long P_j2 = P_j1;
        if (P_j2 + 32 <= 128) {
          long P_h3 = P_h2;
          long P_i3 = P_i2;
          #pragma GCC unroll 2
          for (long P_j3 = P_j2; P_j3 < P_j2 + 32; P_j3 += 16) {
            colt_vstore16(&P[P_h3 * 16384L + P_i3 * 128L + P_j3], (colt_vload16(&E[P_h3 * 16384L + P_i3 * 128L + P_j3]) / L[P_h3 * 128L + P_i3]));
          }
        } else {
          long P_h3 = P_h2;
          long P_i3 = P_i2;
          for (long P_j3 = P_j2; P_j3 < colt_minl(P_j2 + 32, 128); P_j3++) {
            P[P_h3 * 16384L + P_i3 * 128L + P_j3] = (E[P_h3 * 16384L + P_i3 * 128L + P_j3] / L[P_h3 * 128L + P_i3]);
          }
        }
      }
    }
  }
  if (ntasks > 1) barrier(barrier_ctx);
  /* phase: O */
  for (long O_fused = 4L * task / ntasks; O_fused < 4L * (task + 1) / ntasks; O_fused++) {
    long O_h0 = O_fused / 4 % 1 * 4;
    long O_i0 = O_fused / 1 % 4 * 32;
    long O_d0 = 0;
    for (long O_h1 = O_h0; O_h1 < 4; O_h1++) {
      for (long O_i1 = O_i0; O_i1 < colt_minl(O_i0 + 32, 128); O_i1 += 16) {
        long O_d1 = O_d0;
        for (long O_j0 = 0; O_j0 < 128; O_j0 += 32) {
          long O_h2 = O_h1;
          long O_i2 = O_i1;
          for (long O_d2 = O_d1; O_d2 < 256; O_d2 += 16) {
            if (O_i2 + 16 <= 128 && O_d2 + 16 <= 256) {
              colt_v16 O_acc0 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + O_i2 * 256L + O_d2]);
              colt_v16 O_acc1 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 1) * 256L + O_d2]);
              colt_v16 O_acc2 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 2) * 256L + O_d2]);
              colt_v16 O_acc3 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 3) * 256L + O_d2]);
              colt_v16 O_acc4 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 4) * 256L + O_d2]);
              colt_v16 O_acc5 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 5) * 256L + O_d2]);
              colt_v16 O_acc6 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 6) * 256L + O_d2]);
              colt_v16 O_acc7 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 7) * 256L + O_d2]);
              colt_v16 O_acc8 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 8) * 256L + O_d2]);
              colt_v16 O_acc9 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 9) * 256L + O_d2]);
              colt_v16 O_acc10 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 10) * 256L + O_d2]);
              colt_v16 O_acc11 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 11) * 256L + O_d2]);
              colt_v16 O_acc12 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 12) * 256L + O_d2]);
              colt_v16 O_acc13 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 13) * 256L + O_d2]);
              colt_v16 O_acc14 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 14) * 256L + O_d2]);
              colt_v16 O_acc15 = (O_j0 == 0) ? colt_splat16(0.0f) : colt_vload16(&O[O_h2 * 32768L + (O_i2 + 15) * 256L + O_d2]);
              for (long O_j1 = O_j0; O_j1 < colt_minl(O_j0 + 32, 128); O_j1++) {
                O_acc0 = O_acc0 + (P[O_h2 * 16384L + O_i2 * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc1 = O_acc1 + (P[O_h2 * 16384L + (O_i2 + 1) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc2 = O_acc2 + (P[O_h2 * 16384L + (O_i2 + 2) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc3 = O_acc3 + (P[O_h2 * 16384L + (O_i2 + 3) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc4 = O_acc4 + (P[O_h2 * 16384L + (O_i2 + 4) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc5 = O_acc5 + (P[O_h2 * 16384L + (O_i2 + 5) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc6 = O_acc6 + (P[O_h2 * 16384L + (O_i2 + 6) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc7 = O_acc7 + (P[O_h2 * 16384L + (O_i2 + 7) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc8 = O_acc8 + (P[O_h2 * 16384L + (O_i2 + 8) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc9 = O_acc9 + (P[O_h2 * 16384L + (O_i2 + 9) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc10 = O_acc10 + (P[O_h2 * 16384L + (O_i2 + 10) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc11 = O_acc11 + (P[O_h2 * 16384L + (O_i2 + 11) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc12 = O_acc12 + (P[O_h2 * 16384L + (O_i2 + 12) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc13 = O_acc13 + (P[O_h2 * 16384L + (O_i2 + 13) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc14 = O_acc14 + (P[O_h2 * 16384L + (O_i2 + 14) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
                O_acc15 = O_acc15 + (P[O_h2 * 16384L + (O_i2 + 15) * 128L + O_j1] * colt_vload16(&V[(O_h2 / 4L) * 32768L + O_j1 * 256L + O_d2]));
              }
              colt_vstore16(&O[O_h2 * 32768L + O_i2 * 256L + O_d2], O_acc0);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 1) * 256L + O_d2], O_acc1);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 2) * 256L + O_d2], O_acc2);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 3) * 256L + O_d2], O_acc3);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 4) * 256L + O_d2], O_acc4);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 5) * 256L + O_d2], O_acc5);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 6) * 256L + O_d2], O_acc6);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 7) * 256L + O_d2], O_acc7);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 8) * 256L + O_d2], O_acc8);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 9) * 256L + O_d2], O_acc9);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 10) * 256L + O_d2], O_acc10);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 11) * 256L + O_d2], O_acc11);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 12) * 256L + O_d2], O_acc12);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 13) * 256L + O_d2], O_acc13);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 14) * 256L + O_d2], O_acc14);
              colt_vstore16(&O[O_h2 * 32768L + (O_i2 + 15) * 256L + O_d2], O_acc15);
            } else {
              if (O_j0 == 0) {
                long O_h3 = O_h2;
                for (long O_i3 = O_i2; O_i3 < colt_minl(O_i2 + 16, 128); O_i3++) {
                  for (long O_d3 = O_d2; O_d3 < colt_minl(O_d2 + 16, 256); O_d3++) {
                    O[O_h3 * 32768L + O_i3 * 256L + O_d3] = 0.0f;
                  }
                }
              }
              for (long O_j1 = O_j0; O_j1 < colt_minl(O_j0 + 32, 128); O_j1++) {
                long O_h3 = O_h2;
                for (long O_i3 = O_i2; O_i3 < colt_minl(O_i2 + 16, 128); O_i3++) {
                  for (long O_d3 = O_d2; O_d3 < colt_minl(O_d2 + 16, 256); O_d3++) {
                    O[O_h3 * 32768L + O_i3 * 256L + O_d3] = O[O_h3 * 32768L + O_i3 * 256L + O_d3] + (P[O_h3 * 16384L + O_i3 * 128L + O_j1] * V[(O_h3 / 4L) * 32768L + O_j1 * 256L + O_d3]);
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

/* gemma-3-270m-q4_k_m.prefill128.attention with named buffers (colt_kernels.h). */
void colt_gemma_3_270m_q4_k_m_prefill128_attention_run(const float *Q, const float *K, const float *V, float *QK, float *S, float *M, float *E, float *L, float *P, float *O, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx) {
  float *const bufs[] = {(float *)Q, (float *)K, (float *)V, (float *)QK, (float *)S, (float *)M, (float *)E, (float *)L, (float *)P, (float *)O, scratch + 0, scratch + 32768, scratch + 98304};
  colt_gemma_3_270m_q4_k_m_prefill128_attention(bufs, task, ntasks, barrier, barrier_ctx);
}
