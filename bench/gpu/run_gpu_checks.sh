#!/usr/bin/env bash
# Device checks for rlvr's CUDA kernels, runnable without Node: builds the
# standalone harness (native/test, native/bench), checks every kernel against the CPU
# reference, runs compute-sanitizer, then benchmarks against the device's copy
# bandwidth and PyTorch; checks and benchmarks the assembled CUDA model
# (OpsModel: rlvr_cuda_ops_model_check / _bench) and the same model in PyTorch
# (torch_model_gpu.py). Raw outputs (6 files: the log, 5 JSON) go to $OUT
# (default bench/results/gpu-raw). Runtime: ~2.5 min on an H100 before the
# OpsModel and PyTorch-model steps (build ~1 min); those add ~2-4 min expected.
# RLVR_WAIT_FILE: wait (at most 4 min) for this file before the benchmarks, so
# that work started beside this script (run_device_session.sh) is not timed.
# RLVR_ENGINE_ONLY=1: skip what only the RL kernels (native/src/kernels/cuda) affect -- their
# check, benchmark and sanitizer runs -- when only native/src/ops or native/src/model changed and
# device time is short. RLVR_LEAN=1 (device time shorter still): the RL kernels'
# check but not their benchmark; memcheck only on them and the engine ops, and
# racecheck only on the bf16 attention cases; no ncu profile.
set -u
OUT=${OUT:-bench/results/gpu-raw}
mkdir -p "$OUT"
ARCH=${RLVR_CUDA_ARCH:-90}
LOG="$OUT/gpu-check.txt"
step() { echo "== $* ($(date -u +%H:%M:%S))" | tee -a "$LOG"; }

step device
. "$(dirname "$0")/find_cublas.sh" > /tmp/rlvr-cublas.txt; tee -a "$LOG" < /tmp/rlvr-cublas.txt
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$LOG"
nvcc --version | tail -2 | tee -a "$LOG"

step build
cmake -S native/test -B /tmp/rlvr-cudatools -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_BUILD_TYPE=Release > /tmp/rlvr-build.txt 2>&1 &&
  cmake --build /tmp/rlvr-cudatools -j 16 >> /tmp/rlvr-build.txt 2>&1 || { tail -40 /tmp/rlvr-build.txt | tee -a "$LOG"; exit 1; }

ENGINE_ONLY=${RLVR_ENGINE_ONLY:-0}
if [ "$ENGINE_ONLY" != 1 ]; then
  step "check: CUDA kernels vs CPU reference"
  timeout 150 /tmp/rlvr-cudatools/rlvr_cuda_check >> "$LOG" 2>&1
  echo "check exit $?" | tee -a "$LOG"
  grep -E "^# [0-9]+ passed" "$LOG"; grep FAIL "$LOG" | head -20
fi

step "engine ops check: CUDA vs CPU reference"
timeout 150 /tmp/rlvr-cudatools/rlvr_cuda_engine_check >> "$LOG" 2>&1
echo "engine check exit $?" | tee -a "$LOG"
grep -E "^# engine check" "$LOG" | tail -1; grep FAIL "$LOG" | head -20

step "ops model check: OpsModel CUDA vs CPU (fp32, bf16, keep vs recompute)"
timeout 150 /tmp/rlvr-cudatools/rlvr_cuda_ops_model_check 2>&1 | tee -a "$LOG" > /tmp/rlvr-opsm-check.txt
echo "ops model check exit ${PIPESTATUS[0]}" | tee -a "$LOG"
grep -E "^# ops model cuda check" /tmp/rlvr-opsm-check.txt; grep FAIL /tmp/rlvr-opsm-check.txt | head -20

if [ -n "${RLVR_WAIT_FILE:-}" ]; then
  step "waiting for $RLVR_WAIT_FILE before the benchmarks"
  for _ in $(seq 240); do [ -e "$RLVR_WAIT_FILE" ] && break; sleep 1; done
fi

step "engine ops bench"
timeout 120 /tmp/rlvr-cudatools/rlvr_cuda_engine_bench 8192 2048 10 > "$OUT/cuda-engine-bench.json" 2>> "$LOG"
echo "engine bench exit $?" | tee -a "$LOG"; head -c 1500 "$OUT/cuda-engine-bench.json"; echo

step "ops model bench (Qwen2.5-1.5B shapes, bf16 GEMMs: train 8 x 1024, decode 256 x 512 prompt)"
timeout 180 /tmp/rlvr-cudatools/rlvr_cuda_ops_model_bench 8 1024 3 256 512 64 > "$OUT/cuda-ops-model-bench.json" 2>> "$LOG"
echo "ops model bench exit $?" | tee -a "$LOG"; cat "$OUT/cuda-ops-model-bench.json"; echo

# The bf16 attention kernels' non-production variants against production (native/dev).
step "attention variants (native/dev): double-buffered forward V and dq tiles vs production"
timeout 120 /tmp/rlvr-cudatools/rlvr_dev_attention_variants 2>&1 | tee -a "$LOG"

if [ "${RLVR_BENCH_WMMA:-0}" = 1 ]; then
  step "ops model bench, bf16 GEMMs on the WMMA kernel (RLVR_CUBLAS=0)"
  RLVR_CUBLAS=0 timeout 180 /tmp/rlvr-cudatools/rlvr_cuda_ops_model_bench 8 1024 3 256 512 64 > "$OUT/cuda-ops-model-bench-wmma.json" 2>> "$LOG"
  echo "ops model bench (wmma) exit $?" | tee -a "$LOG"; cat "$OUT/cuda-ops-model-bench-wmma.json"; echo
fi

step "torch model bench (the same Qwen2.5-1.5B workload in PyTorch on this device)"
PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/torch_model_gpu.py 8 1024 3 256 512 64 > "$OUT/torch-model-gpu.json" 2>> "$LOG"
echo "torch model bench exit $?" | tee -a "$LOG"; cat "$OUT/torch-model-gpu.json"; echo

LEAN=${RLVR_LEAN:-0}
if [ "$ENGINE_ONLY" != 1 ] && [ "$LEAN" != 1 ]; then
  step bench
  timeout 90 /tmp/rlvr-cudatools/rlvr_cuda_bench 4096 151936 20 > "$OUT/cuda-bench.json" 2>> "$LOG"
  echo "bench exit $?" | tee -a "$LOG"

  step torch
  timeout 90 python3 bench/gpu/torch_logprob_gpu.py 4096 151936 20 > "$OUT/torch-gpu.json" 2>> "$LOG"
  echo "torch exit $?" | tee -a "$LOG"; cat "$OUT/torch-gpu.json"
fi
if [ "$ENGINE_ONLY" != 1 ]; then
  tools="memcheck racecheck initcheck synccheck"
  [ "$LEAN" = 1 ] && tools=memcheck
  for tool in $tools; do
    step "compute-sanitizer $tool (rlvr_cuda_check --tiny)"
    timeout 60 compute-sanitizer --tool "$tool" --error-exitcode 9 /tmp/rlvr-cudatools/rlvr_cuda_check --tiny > /tmp/san.txt 2>&1
    rc=$?
    grep -E "passed|SUMMARY|=========" /tmp/san.txt | tail -5 | tee -a "$LOG"
    echo "sanitizer $tool exit $rc" | tee -a "$LOG"
  done
  if [ "$LEAN" != 1 ]; then
    step "compute-sanitizer memcheck (rlvr_cuda_ops_model_check --quick)"
    timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 /tmp/rlvr-cudatools/rlvr_cuda_ops_model_check --quick > /tmp/san.txt 2>&1
    rc=$?
    grep -E "ops model cuda check|SUMMARY|=========" /tmp/san.txt | tail -8 | tee -a "$LOG"
    echo "sanitizer memcheck (ops model) exit $rc" | tee -a "$LOG"
  fi
fi
for tool in memcheck racecheck; do
  scope=--quick
  [ "$LEAN" = 1 ] && [ "$tool" = racecheck ] && scope=--bf16-attention
  step "compute-sanitizer $tool (rlvr_cuda_engine_check $scope: the engine ops, tensor-core attention included)"
  timeout 120 compute-sanitizer --tool "$tool" --error-exitcode 9 /tmp/rlvr-cudatools/rlvr_cuda_engine_check $scope > /tmp/san.txt 2>&1
  rc=$?
  grep -E "engine check|SUMMARY|=========" /tmp/san.txt | tail -6 | tee -a "$LOG"
  echo "sanitizer $tool (engine ops, $scope) exit $rc" | tee -a "$LOG"
done

# Where the training step's time goes, per kernel (when the device has Nsight Systems).
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1)
if [ -n "$NSYS" ]; then
  step "nsys: kernel time summary of the ops model bench (train 8 x 1024, 2 reps; decode 8 x 64, 4 steps)"
  timeout 150 "$NSYS" profile -o /tmp/rlvr-prof --force-overwrite true -t cuda /tmp/rlvr-cudatools/rlvr_cuda_ops_model_bench 8 1024 2 8 64 4 > /dev/null 2>> /tmp/nsys-err.txt
  timeout 60 "$NSYS" stats --report cuda_gpu_kern_sum --format csv /tmp/rlvr-prof.nsys-rep 2>/dev/null |
    cut -d, -f1-4,9- | cut -c1-220 | head -45 | tee -a "$LOG"
else
  step "nsys not found: no kernel time summary"
fi
# Why the attention kernels run at the speed they do (when the device has Nsight Compute):
# the first forward, and the last layer's dq / dkv kernels, of one training step at the
# benchmark's shapes (8 x 1024, 12 heads, head_dim 128). RLVR_NCU=0 skips it.
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if [ -n "$NCU" ] && [ "${RLVR_NCU:-1}" != 0 ] && [ "$LEAN" != 1 ]; then
  for k in "fwd_kernel 1" "d(q|kv)_kernel 2"; do
    set -- $k
    step "ncu: tensor-core attention $1 (ops model bench, train 8 x 1024)"
    timeout 120 "$NCU" --kernel-name-base mangled --kernel-name "regex:4attn.*$1" --launch-count "$2" \
      --section SpeedOfLight --section Occupancy --section WarpStateStats --section SchedulerStats \
      --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
      --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio" \
      /tmp/rlvr-cudatools/rlvr_cuda_ops_model_bench 8 1024 1 8 64 1 2>&1 | grep -vE "^==PROF==|^\{|^ *\"" |
      grep -E "attn|Duration|Throughput|Pipe|Occupancy|Registers|Shared Memory|Stall|stalled|Warp Cycles|Issue|Eligible|Active Warps|Block Limit|Bank|L1|L2|DRAM|Executed Ipc|==ERROR" |
      head -150 | tee -a "$LOG"
  done
else
  step "ncu not found (or RLVR_NCU=0): no attention kernel profile"
fi
step done
