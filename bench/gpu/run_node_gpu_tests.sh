#!/usr/bin/env bash
# On the GPU machine: unpack gpu-bundle/ (see make_node_bundle.sh) and run the
# Node GPU test files against the CUDA build of the addon.
set -u
OUT=${OUT:-bench/results/gpu-raw}
mkdir -p "$OUT" /tmp/rlvr-node
xz -dc gpu-bundle/node.xz > /tmp/rlvr-node/node && chmod +x /tmp/rlvr-node/node
tar -xJf gpu-bundle/node_modules.tar.xz
xz -dc gpu-bundle/rlvr_native_cuda.node.xz > /tmp/rlvr-node/rlvr_native_cuda.node
export PATH=/tmp/rlvr-node:$PATH RLVR_ADDON_PATH=/tmp/rlvr-node/rlvr_native_cuda.node
node --version
for t in "$@"; do
  pkg=${t%%/test/*}
  (cd "$pkg" && node ../../node_modules/vitest/vitest.mjs run "test/${t#*/test/}" 2>&1) | tee -a "$OUT/node-gpu-tests.txt" | tail -40
done
