#!/usr/bin/env bash
# The paper's 1-shot RLVR step at Qwen2.5-Math-1.5B size, run the way a user runs it:
# `rlvr train --config examples/qwen2.5-math-1.5b-pi1.yaml` on random weights of the model's exact
# config (`rlvr init`, with a synthetic tokenizer of the same vocabulary), evaluation off, one
# prompt repeated to the batch. Issue #18; the runbook is bench/gpu/README.md.
#
# MODES, in order (default "small full"):
# Random weights give near-uniform outputs, so the entropy guard is off (guard.maxEntropyFrac=1).
#   small   16 prompts x 8, every response 512 tokens, 2 steps: the whole path at a tenth of the
#           size (run it first: a failure costs seconds, not the full step)
#   full    128 x 8, every response 3072 tokens (rollout.benchLengths [3072, 3072]), STEPS steps
#   drawn   128 x 8, each response ends at a length drawn from 200-3072, STEPS steps
#   torch   the PyTorch peer (torch_grpo_step.py: transformers generate + a plain GRPO update)
#   smoke   no GPU: a 2-layer model of the same vocabulary on backend ops-cpu, 2 x 4 x 16 tokens,
#           to test this script on any machine
# STEPS (default 1), TIMEOUT_S per run (default 540), COMMIT (the summary's commit field).
# Output in $OUT: paper-step.json (every mode run so far, per step), train-<mode>.log,
# torch-grpo-step.json. Node: this machine's, else gpu-bundle/ (make_node_bundle.sh).
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/gpu-raw}
W=${WORK:-/tmp/rlvr-paper}
MODES=${MODES:-"small full"}
STEPS=${STEPS:-1}
TIMEOUT_S=${TIMEOUT_S:-540}
mkdir -p "$OUT" "$W"

if ! command -v node > /dev/null; then
  [ -f gpu-bundle/node.xz ] || { echo "no node and no gpu-bundle/: run bench/gpu/make_node_bundle.sh first" >&2; exit 1; }
  mkdir -p /tmp/rlvr-node
  xz -dc gpu-bundle/node.xz > /tmp/rlvr-node/node && chmod +x /tmp/rlvr-node/node
  tar -xJf gpu-bundle/node_modules.tar.xz
  xz -dc gpu-bundle/rlvr_native_cuda.node.xz > /tmp/rlvr-node/rlvr_native_cuda.node
  export PATH=/tmp/rlvr-node:$PATH RLVR_ADDON_PATH=/tmp/rlvr-node/rlvr_native_cuda.node
fi
RLVR=(node packages/cli/dist/cli.js)
node --version

# A made-up problem of about pi_1's length; its answer never matters (random weights).
PROBLEM="A cylindrical tank with an inner radius of 3 meters is filled with water to a height of 5 meters. \
Water drains through a valve at a rate proportional to the square root of the current height, and after 2 \
hours the height has fallen to 4 meters. Assuming the same law holds throughout, how many hours after the \
valve was opened will the tank be exactly half full? Give the exact value and a decimal approximation."
data() { # rows -> $W/train-<rows>.jsonl
  local f="$W/train-$1.jsonl"
  node -e 'const [f, n, p] = process.argv.slice(1); const row = { data_source: "bench", prompt: [{ role: "user", content: p }], ability: "math", reward_model: { ground_truth: "1", style: "rule" }, extra_info: { index: 0 } };
require("fs").writeFileSync(f, Array.from({ length: +n }, () => JSON.stringify(row)).join("\n") + "\n");' "$f" "$1" "$PROBLEM"
  echo "$f"
}

if [[ " $MODES " == *" smoke "* ]]; then
  MODEL_CONFIG="$W/smoke-config.json"
  node -e 'const c = JSON.parse(require("fs").readFileSync("examples/qwen2.5-math-1.5b/config.json", "utf8"));
Object.assign(c, { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 });
require("fs").writeFileSync(process.argv[1], JSON.stringify(c, null, 2));' "$MODEL_CONFIG"
  MODEL="$W/model-smoke"
else
  MODEL_CONFIG=examples/qwen2.5-math-1.5b/config.json
  MODEL="$W/model-1.5b"
fi
[ -f "$MODEL/config.json" ] || "${RLVR[@]}" init --config "$MODEL_CONFIG" --out "$MODEL" --dtype bfloat16 --force || exit 1

train() { # mode rows maxResponse benchMin steps [--set ...]
  local mode=$1 rows=$2 len=$3 min=$4 steps=$5
  shift 5
  rm -rf "${W:?}/$mode"
  echo "== $mode: $rows prompts x 8, responses $min-$len tokens, $steps step(s)"
  timeout "$TIMEOUT_S" "${RLVR[@]}" train --config examples/qwen2.5-math-1.5b-pi1.yaml --out "$W/$mode" \
    --set "model.path=$MODEL" --set "data.train=$(data "$rows")" --set "data.trainBatchSize=$rows" \
    --set "actor.ppoMiniBatchSize=$rows" --set "data.maxResponseLength=$len" --set "rollout.benchLengths=[$min,$len]" \
    --set "trainer.totalSteps=$steps" --set trainer.testFreq=0 --set eval.beforeTrain=false \
    --set trainer.saveFreq=0 --set "trainer.loggers=[console,jsonl]" --set trainer.rolloutsFreq=0 \
    --set guard.maxEntropyFrac=1 "$@" \
    > "$OUT/train-$mode.log" 2>&1
  echo "exit $?"
  tail -12 "$OUT/train-$mode.log"
}

runs=()
for mode in $MODES; do
  case $mode in
    smoke) train smoke 2 16 16 2 --set model.backend=ops-cpu --set model.bf16Gemm=false --set rollout.n=4 ;;
    small) train small 16 512 512 2 ;;
    full) train full 128 3072 3072 "$STEPS" ;;
    drawn) train drawn 128 3072 200 "$STEPS" ;;
    torch) timeout "$TIMEOUT_S" python3 bench/gpu/torch_grpo_step.py > "$OUT/torch-grpo-step.json" 2> "$OUT/torch-grpo-step.err"
      echo "torch exit $?"; tail -c 1500 "$OUT/torch-grpo-step.json"; continue ;;
    *) echo "unknown mode $mode" >&2; continue ;;
  esac
  runs+=("$mode=$W/$mode")
  if command -v nvidia-smi > /dev/null; then dev=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1); else dev="cpu (ops-cpu)"; fi
  node bench/gpu/paper_step_summary.mjs --model "$MODEL" --device "$dev" --commit "${COMMIT:-unknown}" "${runs[@]}" > "$OUT/paper-step.json"
done
[ -f "$OUT/paper-step.json" ] && cat "$OUT/paper-step.json"
