#!/bin/bash
# The full evaluation of issue 15: both benchmarks, every method, drawn by SHARDS single-threaded processes at once
# (on small world nets that draws ~1.4x faster than one multi-threaded process), then measured by one process.
# Images are cached under OUT/<bench>/images, so rerunning after an interruption resumes.
#
#   bash tools/eval-full.sh ADAPTERS_DIR OUT_DIR [SHARDS]      (SHARDS default: the number of cores)
#   EVAL_ARGS="--quick" bash tools/eval-full.sh ...             (extra pulid eval flags, e.g. a smoke run)
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bash tools/eval-full.sh ADAPTERS_DIR OUT_DIR [SHARDS]" >&2; exit 2; fi
adapters=$1 out=$2 shards=${3:-$(nproc)}
methods=base,stage1,stage1-naive,stage2,stage3,stage3-fidelity,stage3-style
cd "$(dirname "$0")/.."
mkdir -p "$out"
start=$(date +%s)
for bench in unsplash50 divid120; do
  s=$(date +%s)
  pids=()
  for k in $(seq 1 "$shards"); do
    PULID_ORT_THREADS=1 node --import tsx src/cli/main.ts eval --bench "$bench" --methods "$methods" --adapters "$adapters" \
      --out "$out/$bench" --shard "$k/$shards" ${EVAL_ARGS:-} > "$out/$bench-shard$k.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "eval-full: a $bench shard failed, see $out/$bench-shard*.log" >&2; exit 1; }; done
  node --import tsx src/cli/main.ts eval --bench "$bench" --methods "$methods" --adapters "$adapters" --out "$out/$bench" --json ${EVAL_ARGS:-} > "$out/$bench.log"
  echo "$bench: $(( $(date +%s) - s )) s; report $out/$bench/report.html"
done
echo "both benchmarks: $(( $(date +%s) - start )) s"
