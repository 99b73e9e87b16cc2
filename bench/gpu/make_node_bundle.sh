#!/usr/bin/env bash
# Packs what the GPU machine lacks to run rlvr's Node GPU tests (it has no
# Node.js): this machine's node binary, the node_modules needed by vitest and
# the packages plus the verifier's worker build (xz-compressed), and the addon
# built with CUDA here.
# Output: gpu-bundle/ (git-ignored), carried to the device by the run tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=gpu-bundle
mkdir -p "$out"
[ -f "$out/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$out/node.xz"
# the verifier's worker thread runs from its build output (the trainer tests start a pool)
[ -f packages/verifier/dist/worker.js ] || pnpm --filter @rlvr/verifier build > /dev/null
# node_modules without the heavy packages these tests never load (the verifier's
# compute-engine stays: the trainer tests import it), and every package's build output (the CLI
# that run_paper_step.sh runs)
[ -f packages/cli/dist/cli.js ] || pnpm build > /dev/null
tar -c --exclude='node_modules/.pnpm/@turbo+*' --exclude='node_modules/.pnpm/typescript@*' \
  --exclude='node_modules/.pnpm/vega*' \
  --exclude='node_modules/.pnpm/@resvg+*' --exclude='node_modules/.pnpm/turbo@*' \
  node_modules packages/*/node_modules native/node_modules packages/*/dist | xz -T2 -6 > "$out/node_modules.tar.xz"
# the addon with CUDA kernels (sm_90), built in its own directory
npx --prefix native cmake-js build -d native -O /tmp/rlvr-addon-cuda --CDRLVR_CUDA=ON \
  --CDCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc --CDRLVR_CUDA_ARCHS=90 -p 2 > /tmp/rlvr-addon-cuda.log 2>&1 ||
  { tail -30 /tmp/rlvr-addon-cuda.log; exit 1; }
# xz-compressed: the bundle and the working tree must fit the run tool's 64 MiB carry limit
rm -f "$out/rlvr_native_cuda.node"
xz -T2 -6 -c /tmp/rlvr-addon-cuda/Release/rlvr_native.node > "$out/rlvr_native_cuda.node.xz"
du -sh "$out"/*
