#!/usr/bin/env bash
# The prepared device check, one command for a short window on a GPU machine (README: "The device check"):
#
#   scripts/device-check.sh [--cuda | --cpu]
#
# --cuda (the default where nvidia-smi answers): builds the addon against python3's torch
#   (torch.utils.cmake_prefix_path) with every core, runs the GPU tests (test/gpu), benchmarks training on the GPU
#   against python3's PyTorch in the same run (every model at bf16 + channels-last, eager and as CUDA graphs; ResNet-50
#   and CBR-Small also at fp32, tf32 and bf16, with and without channels-last, and fp32 graphs) and the similarity
#   batch on the GPU.
# --cpu: the same stages end to end on this machine against the local LibTorch, at small sizes (CI runs it), so that
#   a GPU window is spent measuring, not debugging.
#
# Runs from a copy of the tree that carries node_modules and, where the machine has no Node.js, .dev/node.xz
# (`mkdir -p .dev && xz -T2 -c "$(command -v node)" > .dev/node.xz`). Writes $OUT/device-check.json (every stage:
# status, seconds, and the bench results) and $OUT/device-check.log. Each stage has its own time limit, so a hang
# costs that stage only; the whole check is sized to end within 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=""
case "${1:-}" in
  --cuda) mode=cuda ;;
  --cpu) mode=cpu ;;
  "") if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then mode=cuda; else mode=cpu; fi ;;
  *) echo "usage: scripts/device-check.sh [--cuda | --cpu]" >&2; exit 2 ;;
esac

OUT=${OUT:-$root/.dev/out}
mkdir -p "$OUT"
log="$OUT/device-check.log"
stages="$OUT/stages.jsonl"
: >"$log"
: >"$stages"
say() { echo "device-check: $*" | tee -a "$log"; }

# Node.js: the machine's, or the one this tree carries.
if ! command -v node >/dev/null 2>&1; then
  if [ -f .dev/node.xz ]; then
    mkdir -p .dev/bin && xz -dc .dev/node.xz >.dev/bin/node && chmod +x .dev/bin/node
    export PATH="$root/.dev/bin:$PATH"
  else
    say "no Node.js on this machine and no .dev/node.xz in the tree (xz -T2 -c \"\$(command -v node)\" > .dev/node.xz)"
    exit 1
  fi
fi

# stage NAME SECONDS COMMAND...: runs the command under its time limit, its output into the log; records the outcome.
failed=0
stage() {
  local name=$1 limit=$2; shift 2
  say "== $name (limit ${limit} s): $*"
  local t0=$SECONDS status
  timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
  status=$?
  local outcome=passed
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then outcome=timed-out; elif [ $status -ne 0 ]; then outcome=failed; fi
  [ "$outcome" = passed ] || failed=1
  printf '{"stage":"%s","status":"%s","exit":%d,"seconds":%d}\n' "$name" "$outcome" "$status" $((SECONDS - t0)) >>"$stages"
  say "   $name: $outcome in $((SECONDS - t0)) s"
}

python=python3
if [ "$mode" = cuda ]; then
  torch_dir=$($python -c 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)' 2>>"$log")/Torch
  export Torch_DIR=$torch_dir
  models=cbr-tiny,cbr-small,cbr-largew,cbr-larget,resnet50,inception_v3 few=cbr-small,resnet50
  batch=128 size=224 steps=20 warmup=5 cca=8x20000x512
else
  python=/usr/bin/python3  # Debian's, with python3-torch
  models=cbr-tiny,resnet50 few=cbr-tiny
  batch=8 size=64 steps=2 warmup=1 cca=2x2000x64
fi
export TRANSFUSION_THREADS=${TRANSFUSION_THREADS:-$(nproc)}
say "mode $mode, $(nproc) cores, node $(node --version), python $($python -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'without torch')"
[ "$mode" = cuda ] && nvidia-smi -L >>"$log" 2>&1

stage build 420 node scripts/build-native.js
stage typescript 120 node node_modules/typescript/bin/tsc -p tsconfig.json
# What the addon was built against, in the log and the JSON: LibTorch's version and the C++ standard CMakeLists.txt chose
# for it (C++20 wherever the compiler has it; LibTorch 2.14 and later accept nothing older).
built=$(node -p 'const v = require("./dist/src/runtime").versions(); `LibTorch ${v.torch}, C++${v.cxxStandard}`' 2>>"$log" || echo "no addon built")
say "built: $built"
stage gpu-tests 240 node node_modules/jest/bin/jest.js --ci test/gpu --json --outputFile="$OUT/gpu-tests.json"

bench() {  # bench NAME MODELS ARGS...: one bench invocation, JSON into $OUT/bench-NAME.json
  local name=$1 which=$2; shift 2
  stage "bench-$name" "$bench_limit" sh -c 'node bin/transfusion-native.js bench "$@" --json >"$0"' "$OUT/bench-$name.json" \
    --device "$mode" --models "$which" --batch "$batch" --size "$size" --steps "$steps" --warmup "$warmup" --rounds 1 \
    --vs-python --python "$python" --cca 0 "$@"
}
bench_limit=$([ "$mode" = cuda ] && echo 150 || echo 240)
# Every model at the CUDA defaults (bf16, channels-last), eager and as CUDA graphs; two models (one large, one small)
# through the other precisions and layouts, which keeps the check within its 8 minutes.
bench bf16-channels-last "$models" --precision bf16 --channels-last
if [ "$mode" = cuda ]; then
  bench bf16-channels-last-graph "$models" --precision bf16 --channels-last --cuda-graph
  for precision in fp32 tf32 bf16; do
    bench "$precision" "$few" --precision "$precision"
    [ "$precision" = bf16 ] || bench "$precision-channels-last" "$few" --precision "$precision" --channels-last
  done
  bench fp32-graph "$few" --precision fp32 --cuda-graph
else
  bench fp32 "$few" --precision fp32  # on the CPU tf32 is fp32, and graphs are CUDA's
fi
stage similarity 120 sh -c 'node bin/transfusion-native.js bench --device "$1" --models none --cca "$2" --json >"$0"' \
  "$OUT/bench-similarity.json" "$mode" "$cca"
# Issue 29: the every-layer minibatch CKA heatmap of two ResNet-50s on the device (images/s, peak host memory).
if [ "$mode" = cuda ]; then heatmap="--heatmap-images 1024 --heatmap-size 224 --heatmap-batch 128"; else heatmap="--heatmap-images 32 --heatmap-size 32 --heatmap-batch 16"; fi
stage heatmap 180 sh -c 'node bench/similarity.js --pairs 0 --models 0 --rbf-pairs 0 --python "$1" --heatmap-device "$2" $3 --json >"$0"' \
  "$OUT/bench-heatmap.json" "$python" "$mode" "$heatmap"

# One JSON: the stages and every bench result.
node -e '
  const fs = require("node:fs"), path = require("node:path");
  const [out, mode, built] = process.argv.slice(1);
  const stages = fs.readFileSync(path.join(out, "stages.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const bench = {};
  for (const f of fs.readdirSync(out).filter((f) => /^bench-.*\.json$/.test(f)))
    try { bench[f.slice(6, -5)] = JSON.parse(fs.readFileSync(path.join(out, f), "utf8")); } catch { bench[f.slice(6, -5)] = null; }
  let tests = null;
  try { const t = JSON.parse(fs.readFileSync(path.join(out, "gpu-tests.json"), "utf8")); tests = { passed: t.numPassedTests, failed: t.numFailedTests, skipped: t.numPendingTests }; } catch {}
  fs.writeFileSync(path.join(out, "device-check.json"), JSON.stringify({ mode, built, stages, gpuTests: tests, bench }, null, 2) + "\n");
' "$OUT" "$mode" "$built"
rm -f "$stages"
say "results in $OUT/device-check.json; log in $log"
exit $failed
