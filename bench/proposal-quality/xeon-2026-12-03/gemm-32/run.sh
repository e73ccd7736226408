#!/bin/bash
# Issue 18 instrument runs, one after the other, machine otherwise idle.
cd "$(dirname "$0")/../../../.."  # the repository root
run() {
  name=$1; models=$2
  COLT_CACHE_DIR=/tmp/e18/cache-$name timeout 1500 target/release/colt tune gemm-512 --trials 32 --strategy colt \
    --models $models --measure-probes --db /tmp/e18/$name.db --out /tmp/e18/$name --json > /tmp/e18/$name.json 2> /tmp/e18/$name.err
  echo "$name rc $? $(date +%T)" >> /tmp/e18/done.txt
}
run c models/SmolLM2-135M-Instruct.Q4_1.gguf,models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
run b models/SmolLM2-135M-Instruct.Q4_1.gguf,models/gemma-3-270m-q4_k_m.gguf
run d models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf,models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
