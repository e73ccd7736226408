/* AVX2-only copy of ../shared/peers/peak.c, for parts without AVX-512 (Zen 3): the zmm half
 * removed and 12 independent ymm FMA chains per thread instead of 16. AVX2 has 16 ymm
 * registers: 16 chains plus the two constants spill to the stack and the loop runs at about
 * half speed (108 GFLOP/s on a 2-vCPU Zen 3 against 192 with 10-14 chains); 12 chains still
 * cover the FMA latency (4 cycles x 2 pipes = 8 in flight).
 * FP32 FMA peak microbenchmark: N_CHAINS independent FMA accumulator chains per thread.
 * Build: gcc -O3 -march=native -fopenmp peak.c -o peak
 * Run:   ./peak [threads]   (prints GFLOP/s for zmm (AVX-512) and ymm (AVX2) FMA)
 * 1 FMA lane = 2 FLOP. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>

#define N_CHAINS 12
#define ITERS 200000000L /* per thread; total FMA instr = ITERS*N_CHAINS/ITERS_DIV */

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

__attribute__((noinline)) static float run256(long iters, float seed) {
  __m256 a[N_CHAINS];
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < N_CHAINS; i++) a[i] = _mm256_set1_ps(seed + i);
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
    for (int i = 0; i < N_CHAINS; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < N_CHAINS; i++) s = _mm256_add_ps(s, a[i]);
  float o[8]; _mm256_storeu_ps(o, s);
  return o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
}

static void bench(const char *name, int lanes, float (*fn)(long, float), int nthreads, long iters) {
  double best = 0; float sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = now();
#pragma omp parallel num_threads(nthreads) reduction(+ : sink)
    { sink += fn(iters, (float)omp_get_thread_num()); }
    double dt = now() - t0;
    double flops = 2.0 * lanes * N_CHAINS * (double)iters * nthreads;
    double g = flops / dt / 1e9;
    if (g > best) best = g;
  }
  printf("%s threads=%d chains=%d best-of-5: %.1f GFLOP/s (sink %g)\n", name, nthreads, N_CHAINS, best, sink);
}

int main(int argc, char **argv) {
  int nt = argc > 1 ? atoi(argv[1]) : 1;
  long iters = argc > 2 ? atol(argv[2]) : 50000000L;
  bench("ymm-fma(avx2)  ", 8, run256, nt, iters);
  return 0;
}
