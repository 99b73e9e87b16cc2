#!/usr/bin/env bash
# Re-evaluates each run's final checkpoint with `rlvr mathworld eval` (the standalone evaluator):
# greedy, strict (boxed) and format-blind, by family/level/carry steps, plus 8 samples per problem
# at the rollout temperature 0.6 (distinct share, pass@1, pass@8, rechecks), and stores the JSON:
#   bench/mathworld/eval-final.sh runs/mw/1shot-s0 ...   -> bench/results/mathworld/<run>.final-eval.json
# ("base" evaluates packages/mathworld/base into base.final-eval.json, "base-val" on the validation
# split into base-val.final-eval.json; runs named val-* are evaluated on the validation split)
set -euo pipefail
mkdir -p bench/results/mathworld
for d in "$@"; do
  case $d in
    base|base-val) ck=packages/mathworld/base; name=$d ;;
    *) ck=$d/checkpoints/$(cat $d/checkpoints/latest)/model; name=$(basename $d) ;;
  esac
  split=test; case $name in val-*|base-val) split=val ;; esac
  node packages/cli/dist/cli.js mathworld eval --model $ck --split $split --samples 8 --json > bench/results/mathworld/$name.final-eval.json
  echo "$name: $(head -c 160 bench/results/mathworld/$name.final-eval.json)"
done
