#!/usr/bin/env bash
# One device call for a whole session's GPU work (device time is scarce): the
# Node GPU tests (need gpu-bundle/ carried, see make_node_bundle.sh) run in the
# background while native/test builds and the C++ checks run; the benchmarks
# wait for them, so no timing shares the GPU with them.
#   OUT=$OUT bash bench/gpu/run_device_session.sh     (carry: ["gpu-bundle"])
set -u
OUT=${OUT:-bench/results/gpu-raw}
mkdir -p "$OUT"
here=$(dirname "$0")
. "$here/find_cublas.sh"
done_file=/tmp/rlvr-node-tests.done
rm -f "$done_file"
if [ -d gpu-bundle ]; then
  (OUT=$OUT timeout 300 bash "$here/run_node_gpu_tests.sh" packages/engine/test/backends.gpu.test.ts \
     packages/native/test/cuda.gpu.test.ts packages/native/test/gemmImpl.test.ts packages/trainer/test/train.gpu.test.ts > /tmp/rlvr-node-tests.log 2>&1
   echo "node tests exit $?" >> "$OUT/node-gpu-tests.txt"; touch "$done_file") &
else
  echo "no gpu-bundle/: Node GPU tests skipped (run bench/gpu/make_node_bundle.sh, carry gpu-bundle)" |
    tee "$OUT/node-gpu-tests.txt"
  touch "$done_file"
fi
RLVR_WAIT_FILE=$done_file OUT=$OUT bash "$here/run_gpu_checks.sh"
wait
echo "== node GPU tests (tail)"; grep -E "Test Files|Tests |FAIL|node tests exit|✓|×" "$OUT/node-gpu-tests.txt" | tail -20
