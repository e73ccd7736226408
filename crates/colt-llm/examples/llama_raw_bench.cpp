// pp512 / tg128 with llama.cpp's C API alone, measured as llama.cpp's
// `llama-bench` measures them (random tokens; the prompt in one batch; then
// one token per decode, no sampling), linked against the very libllama that
// colt-llm's build made. `llama-bench` itself is not in the llama.cpp source
// that llama-cpp-sys-2 vendors, hence this stand-in; its numbers are what
// colt-llm's `llm_bench` example is compared with.
//
// Build it outside the repository, after `cargo build --release -p colt-llm`:
//
//   OUT=$(ls -d target/release/build/llama-cpp-sys-2-*/out | head -1)
//   SRC=$(ls -d ~/.cargo/registry/src/*/llama-cpp-sys-2-0.1.161/llama.cpp)
//   g++ -O2 -std=c++17 crates/colt-llm/examples/llama_raw_bench.cpp -o /tmp/llama_raw_bench \
//       -I$SRC/include -I$SRC/ggml/include \
//       $OUT/build/src/libllama.a $OUT/build/ggml/src/libggml.a \
//       $OUT/build/ggml/src/libggml-cpu.a $OUT/build/ggml/src/libggml-base.a -lpthread -lm
//   /tmp/llama_raw_bench models/SmolLM2-135M-Instruct.Q4_1.gguf 2 3

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "llama.h"

static void quiet(ggml_log_level, const char *, void *) {}

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [threads=2] [reps=3]\n", argv[0]);
        return 1;
    }
    const int threads = argc > 2 ? atoi(argv[2]) : 2;
    const int reps = argc > 3 ? atoi(argv[3]) : 3;
    const int n_prompt = 512, n_gen = 128;

    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 2048;  // as colt-llm's llm_bench
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.swa_full = true;  // as colt-llm's sessions
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }

    auto pp = [&]() {
        llama_memory_clear(llama_get_memory(ctx), true);
        std::vector<llama_token> tokens(n_prompt);
        tokens[0] = llama_vocab_bos(vocab);
        for (int i = 1; i < n_prompt; i++) tokens[i] = std::rand() % n_vocab;
        double t = now();
        llama_decode(ctx, llama_batch_get_one(tokens.data(), n_prompt));
        llama_synchronize(ctx);
        return n_prompt / (now() - t);
    };
    auto tg = [&]() {
        llama_memory_clear(llama_get_memory(ctx), true);
        llama_token token = llama_vocab_bos(vocab);
        double t = now();
        for (int i = 0; i < n_gen; i++) {
            llama_decode(ctx, llama_batch_get_one(&token, 1));
            llama_synchronize(ctx);
            token = std::rand() % n_vocab;
        }
        return n_gen / (now() - t);
    };

    pp();  // warm-up, as llama-bench
    tg();
    double sum = 0, lo = 1e30, hi = 0;
    for (int r = 0; r < reps; r++) { double x = pp(); sum += x; lo = x < lo ? x : lo; hi = x > hi ? x : hi; }
    printf("  pp512 tok/s %9.3f  (%.3f..%.3f)\n", sum / reps, lo, hi);
    sum = 0, lo = 1e30, hi = 0;
    for (int r = 0; r < reps; r++) { double x = tg(); sum += x; lo = x < lo ? x : lo; hi = x > hi ? x : hi; }
    printf("  tg128 tok/s %9.3f  (%.3f..%.3f)\n", sum / reps, lo, hi);

    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
