#!/usr/bin/env bash
# Re-evaluates each run's final checkpoint with `rlvr mathworld eval` (the standalone evaluator) and
# stores the JSON (accuracy, format errors, by family/level) next to the run summary:
#   bench/mathworld/eval-final.sh runs/mw/1shot-s0 ...   -> bench/results/mathworld/<run>.final-eval.json
set -euo pipefail
mkdir -p bench/results/mathworld
for d in "$@"; do
  ck=$d/checkpoints/$(cat $d/checkpoints/latest)/model
  node packages/cli/dist/cli.js mathworld eval --model $ck --json > bench/results/mathworld/$(basename $d).final-eval.json
  echo "$(basename $d): $(cat bench/results/mathworld/$(basename $d).final-eval.json | head -c 120)"
done
