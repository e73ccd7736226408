/* colt kernel library: the tuned kernels of colt's jobs (see kernels.json).
* ABI: ntasks threads call a function at once, each with its task in
* 0..ntasks; barrier(barrier_ctx) returns in each once all have called it.
* Inputs are read only; temporaries, outputs and scratch are the caller's
* (scratch: 64-byte aligned, NAME_SCRATCH_FLOATS floats, NULL when 0).
* Built with -march=native: for the machine the kernels were tuned on. */
#ifndef COLT_KERNELS_H
#define COLT_KERNELS_H

typedef void (*colt_barrier_fn)(void *ctx);

/* gemma-3-270m-q4_k_m.prefill128.norm: 73 per forward pass; 0.0292 ms tuned.
 *   X [128][640] input
 *   g [640] input
 *   SS [128] temp
 *   R [128] temp
 *   Y [128][640] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_NORM_SCRATCH_FLOATS 81920
void colt_gemma_3_270m_q4_k_m_prefill128_norm(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_norm_run(const float *X, const float *g, float *SS, float *R, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.q-proj: 18 per forward pass; 0.6368 ms tuned.
 *   A [128][640] input
 *   B [640][1024] input
 *   C [128][1024] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_Q_PROJ_SCRATCH_FLOATS 0
void colt_gemma_3_270m_q4_k_m_prefill128_q_proj(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_q_proj_run(const float *A, const float *B, float *C, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.k-proj.v-proj: 36 per forward pass; 0.1162 ms tuned.
 *   A [128][640] input
 *   B [640][256] input
 *   C [128][256] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_K_PROJ_V_PROJ_SCRATCH_FLOATS 0
void colt_gemma_3_270m_q4_k_m_prefill128_k_proj_v_proj(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_k_proj_v_proj_run(const float *A, const float *B, float *C, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.q-norm: 18 per forward pass; 0.0809 ms tuned.
 *   X [512][256] input
 *   g [256] input
 *   SS [512] temp
 *   R [512] temp
 *   Y [512][256] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_Q_NORM_SCRATCH_FLOATS 131072
void colt_gemma_3_270m_q4_k_m_prefill128_q_norm(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_q_norm_run(const float *X, const float *g, float *SS, float *R, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.k-norm: 18 per forward pass; 0.0207 ms tuned.
 *   X [128][256] input
 *   g [256] input
 *   SS [128] temp
 *   R [128] temp
 *   Y [128][256] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_K_NORM_SCRATCH_FLOATS 32768
void colt_gemma_3_270m_q4_k_m_prefill128_k_norm(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_k_norm_run(const float *X, const float *g, float *SS, float *R, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.attention: 18 per forward pass; 0.2758 ms tuned.
 *   Q [4][128][256] input
 *   K [1][128][256] input
 *   V [1][128][256] input
 *   QK [4][128][128] temp
 *   S [4][128][128] temp
 *   M [4][128] temp
 *   E [4][128][128] temp
 *   L [4][128] temp
 *   P [4][128][128] temp
 *   O [4][128][256] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_ATTENTION_SCRATCH_FLOATS 163840
void colt_gemma_3_270m_q4_k_m_prefill128_attention(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_attention_run(const float *Q, const float *K, const float *V, float *QK, float *S, float *M, float *E, float *L, float *P, float *O, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.o-proj: 18 per forward pass; 0.4498 ms tuned.
 *   A [128][1024] input
 *   B [1024][640] input
 *   C [128][640] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_O_PROJ_SCRATCH_FLOATS 0
void colt_gemma_3_270m_q4_k_m_prefill128_o_proj(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_o_proj_run(const float *A, const float *B, float *C, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.mlp: 18 per forward pass; 4.1378 ms tuned.
 *   X [128][640] input
 *   Wg [640][2048] input
 *   Wu [640][2048] input
 *   Wd [2048][640] input
 *   G [128][2048] temp
 *   U [128][2048] temp
 *   H [128][2048] temp
 *   Y [128][640] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_MLP_SCRATCH_FLOATS 1310720
void colt_gemma_3_270m_q4_k_m_prefill128_mlp(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_mlp_run(const float *X, const float *Wg, const float *Wu, const float *Wd, float *G, float *U, float *H, float *Y, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

/* gemma-3-270m-q4_k_m.prefill128.head: 1 per forward pass; 22.4498 ms tuned.
 *   A [1][640] input
 *   B [640][262144] input
 *   C [1][262144] output
 */
#define COLT_GEMMA_3_270M_Q4_K_M_PREFILL128_HEAD_SCRATCH_FLOATS 0
void colt_gemma_3_270m_q4_k_m_prefill128_head(float *const *bufs, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);
void colt_gemma_3_270m_q4_k_m_prefill128_head_run(const float *A, const float *B, float *C, float *scratch, int task, int ntasks, colt_barrier_fn barrier, void *barrier_ctx);

#endif
