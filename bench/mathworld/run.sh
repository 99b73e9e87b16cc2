#!/usr/bin/env bash
# One math-world RLVR run of the README's results table: bench/mathworld/run.sh CONDITION SEED [extra --set ...]
#   CONDITION: 1shot | full | entropy | wrong | 1shot300   (all on the built-in mathworld-1shot preset)
# full needs the train pool: pnpm rlvr mathworld export --out runs/mathworld
set -euo pipefail
cond=$1; seed=$2; shift 2
case $cond in
  1shot) extra=() ;;
  1shot300) extra=(--set trainer.totalSteps=300 --set trainer.testFreq=20) ;;  # the long curve (post-saturation check)
  full) extra=(--set data.train=runs/mathworld/train.jsonl) ;;
  entropy) extra=(--set loss.policy=false --set loss.kl=false) ;;
  wrong) extra=(--set data.wrongLabels=true) ;;
  *) echo "unknown condition $cond" >&2; exit 2 ;;
esac
out=runs/mw/$cond-s$seed
mkdir -p runs/mw
cmd=(node packages/cli/dist/cli.js train --set trainer.seed=$seed "${extra[@]}" "$@" --out $out)
mkdir -p $out
echo "rlvr train --set trainer.seed=$seed ${extra[*]} $* --out $out" > $out/command.txt
"${cmd[@]}" 2> $out/train.log
tail -3 $out/train.log
