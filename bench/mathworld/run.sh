#!/usr/bin/env bash
# One math-world RLVR run of the README's results table: bench/mathworld/run.sh CONDITION SEED [extra --set ...]
#   CONDITION (all on the built-in mathworld-1shot preset, i.e. pi_1, unless it says otherwise):
#     1shot | full (1,000-problem pool) | format (full pool, format reward only) | format1 (pi_1, format reward only)
#     random (one random pool example, runs/mathworld/random1.jsonl) | exN (pool example N, e.g. a tied pi_1 candidate)
#     entropy (entropy loss only)
#     wrong (wrong label) | 1shot300 (300 steps: the post-saturation curve)
#     val-lrX (1-shot, lr X), val-full (full pool), val-exN (pool example N x 16, runs/mathworld/exN.jsonl):
#       probes evaluated on the validation split
# full/format/random need: pnpm rlvr mathworld export --out runs/mathworld (and, for random,
#   rlvr select --method random --seed 0 --top 1 ... --output runs/mathworld/random1.jsonl; see table.sh)
set -euo pipefail
cond=$1; seed=$2; shift 2
case $cond in
  1shot) extra=() ;;
  1shot300) extra=(--set trainer.totalSteps=300 --set trainer.testFreq=20) ;;
  full) extra=(--set data.train=runs/mathworld/train.jsonl) ;;
  format) extra=(--set data.train=runs/mathworld/train.jsonl --set reward.formatReward=1) ;;
  format1) extra=(--set reward.formatReward=1) ;;
  random) extra=(--set data.train=runs/mathworld/random1.jsonl) ;;
  ex*) extra=(--set data.train=runs/mathworld/${cond}.jsonl) ;;  # pool example N x 16 (table.sh writes exN.jsonl)
  entropy) extra=(--set loss.policy=false --set loss.kl=false) ;;
  wrong) extra=(--set data.wrongLabels=true) ;;
  # probes for choosing hyperparameters (or looking at the world), evaluated on the validation split
  val-lr*) extra=(--set actor.lr=${cond#val-lr} --set eval.files.mathworld=packages/mathworld/data/val.jsonl) ;;
  val-full) extra=(--set data.train=runs/mathworld/train.jsonl --set eval.files.mathworld=packages/mathworld/data/val.jsonl) ;;
  val-ex*) extra=(--set data.train=runs/mathworld/ex${cond#val-ex}.jsonl --set eval.files.mathworld=packages/mathworld/data/val.jsonl) ;;
  *) echo "unknown condition $cond" >&2; exit 2 ;;
esac
out=runs/mw/$cond-s$seed
mkdir -p runs/mw
cmd=(node packages/cli/dist/cli.js train --set trainer.seed=$seed "${extra[@]}" "$@" --out $out)
mkdir -p $out
echo "rlvr train --set trainer.seed=$seed ${extra[*]} $* --out $out" > $out/command.txt
"${cmd[@]}" 2> $out/train.log
tail -3 $out/train.log
