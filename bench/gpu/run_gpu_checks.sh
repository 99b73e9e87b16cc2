#!/usr/bin/env bash
# Device checks for rlvr's CUDA kernels, runnable without Node: builds the
# standalone harness (cuda/tools), checks every kernel against the CPU
# reference, runs compute-sanitizer, then benchmarks against the device's copy
# bandwidth and PyTorch. Raw outputs (3 files) go to $OUT (default bench/results/gpu-raw).
set -u
OUT=${OUT:-bench/results/gpu-raw}
mkdir -p "$OUT"
ARCH=${RLVR_CUDA_ARCH:-90}
LOG="$OUT/gpu-check.txt"
step() { echo "== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }

step device
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$LOG"
nvcc --version | tail -2 | tee -a "$LOG"

step build
cmake -S cuda/tools -B /tmp/rlvr-cudatools -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_BUILD_TYPE=Release > /tmp/rlvr-build.txt 2>&1 &&
  cmake --build /tmp/rlvr-cudatools -j 16 >> /tmp/rlvr-build.txt 2>&1 || { tail -40 /tmp/rlvr-build.txt | tee -a "$LOG"; exit 1; }

step "check: CUDA kernels vs CPU reference"
timeout 150 /tmp/rlvr-cudatools/rlvr_cuda_check >> "$LOG" 2>&1
echo "check exit $?" | tee -a "$LOG"
grep -E "^# [0-9]+ passed" "$LOG"; grep FAIL "$LOG" | head -20

step "engine ops check: CUDA vs CPU reference"
timeout 150 /tmp/rlvr-cudatools/rlvr_cuda_engine_check >> "$LOG" 2>&1
echo "engine check exit $?" | tee -a "$LOG"
grep -E "^# engine check" "$LOG" | tail -1; grep FAIL "$LOG" | head -20

step "engine ops bench"
timeout 120 /tmp/rlvr-cudatools/rlvr_cuda_engine_bench 8192 2048 10 > "$OUT/cuda-engine-bench.json" 2>> "$LOG"
echo "engine bench exit $?" | tee -a "$LOG"; head -c 1500 "$OUT/cuda-engine-bench.json"; echo

step bench
timeout 90 /tmp/rlvr-cudatools/rlvr_cuda_bench 4096 151936 20 > "$OUT/cuda-bench.json" 2>> "$LOG"
echo "bench exit $?" | tee -a "$LOG"

step torch
timeout 90 python3 bench/gpu/torch_logprob_gpu.py 4096 151936 20 > "$OUT/torch-gpu.json" 2>> "$LOG"
echo "torch exit $?" | tee -a "$LOG"; cat "$OUT/torch-gpu.json"

for tool in memcheck racecheck initcheck synccheck; do
  step "compute-sanitizer $tool (rlvr_cuda_check --tiny)"
  timeout 60 compute-sanitizer --tool "$tool" --error-exitcode 9 /tmp/rlvr-cudatools/rlvr_cuda_check --tiny > /tmp/san.txt 2>&1
  rc=$?
  grep -E "passed|SUMMARY|=========" /tmp/san.txt | tail -5 | tee -a "$LOG"
  echo "sanitizer $tool exit $rc" | tee -a "$LOG"
done
step done
