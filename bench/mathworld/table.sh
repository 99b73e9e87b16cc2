#!/usr/bin/env bash
# The README's whole results table, one run at a time (nice'd: the machine is shared):
#   bench/mathworld/table.sh [CONDITION:SEEDS ...]     e.g. 1shot:0,1,2 full:0,1,2
# Default: every row, 3 seeds. Each run's folder is runs/mw/<condition>-s<seed>; afterwards
# eval-final.sh and summarize.mjs write bench/results/mathworld/.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(1shot:0,1,2 full:0,1,2 format1:0,1,2 ex803:0,1,2 random:0,1,2 entropy:0 wrong:0 format:0)
rlvr() { nice -n 15 node packages/cli/dist/cli.js "$@"; }
[ -f runs/mathworld/train.jsonl ] || rlvr mathworld export --out runs/mathworld
[ -f runs/mathworld/random1.jsonl ] || rlvr select --history packages/mathworld/data/acc_history.json --method random --seed 0 --top 1 \
  --dataset runs/mathworld/train.jsonl --repeat 16 --output runs/mathworld/random1.jsonl
# exN rows: pool example N repeated to the batch size (16)
for row in "${rows[@]}"; do
  case ${row%%:*} in ex*|val-ex*) i=${row%%:*}; i=${i##*ex}
    [ -f runs/mathworld/ex$i.jsonl ] || for k in $(seq 16); do sed -n "$((i + 1))p" runs/mathworld/train.jsonl; done > runs/mathworld/ex$i.jsonl ;;
  esac
done
for b in base base-val; do [ -f bench/results/mathworld/$b.final-eval.json ] || nice -n 15 bench/mathworld/eval-final.sh $b; done
for row in "${rows[@]}"; do
  cond=${row%%:*}; seeds=${row#*:}
  for s in ${seeds//,/ }; do
    [ -f runs/mw/$cond-s$s/checkpoints/latest ] && { echo "skip $cond-s$s (done)"; continue; }
    echo "== $cond seed $s ($(date -u +%H:%M:%S))"
    nice -n 15 bench/mathworld/run.sh $cond $s
    nice -n 15 bench/mathworld/eval-final.sh runs/mw/$cond-s$s
  done
done
