#!/bin/bash
# The full-data study of docs/training.md ("Plan for the full-data study"), resumable.
#
#   scripts/run_study.sh [OUT]      (default OUT: study_out)
#
# Runs every cell in two lanes of one thread each: on a 2-core machine that gives about
# 1.4x the throughput of one 2-thread run at a time, and the results do not depend on
# the thread count. Every command passes --resume, so after an interruption the same
# call continues each run from its last epoch and skips finished ones. Progress lines go
# to OUT/<run>.log, one start/end line per run to OUT/all.log. Copy a finished cell into
# docs/training/study/ without its checkpoint.bin files and re-run
# scripts/study_analysis.py on them for the table.
#
# DAA: the daa binary (default target/release/daa; `cargo build --release` first).
# EXTRA: more `daa train` flags for every run, only to smoke-test this script
# (EXTRA="--train-subset 128 --test-subset 100"); the study itself uses all the data.
set -u
OUT=${1:-study_out}
DAA=${DAA:-target/release/daa}
read -r -a EXTRA_ARGS <<< "${EXTRA:-}"
mkdir -p "$OUT"
[ -x "$DAA" ] || { echo "error: $DAA not found: run cargo build --release, or set DAA" >&2; exit 2; }

run() {
    local name=$1; shift
    echo "$(date -u +%FT%T) start $name" >> "$OUT/all.log"
    nice -n 10 "$DAA" train "$@" "${EXTRA_ARGS[@]}" --threads 1 --resume --out "$OUT/$name" > "$OUT/$name.log" 2>&1
    echo "$(date -u +%FT%T) end $name rc=$?" >> "$OUT/all.log"
}

# Epochs per model from the schedule study (docs/training.md): `native` at 10, 20 and 40
# epochs; E is the fewest whose accuracy is within 1 pp of the best of the three.
epochs_for() {
    local m=$1 e
    for e in 10 20 40; do run "schedule-$m-e$e" --model "$m" --policy native --epochs "$e" --seed 1; done
    python3 - "$OUT"/schedule-"$m"-e{10,20,40}/summary.json <<'PY'
import json, sys
acc = {e: json.load(open(p))["test_accuracy"] for e, p in zip((10, 20, 40), sys.argv[1:])}
print(min(e for e, a in acc.items() if max(acc.values()) - a <= 0.01))
PY
}

cells() {
    local m=$1 e
    e=$(epochs_for "$m") || e=10
    echo "$(date -u +%FT%T) $m: $e epochs" >> "$OUT/all.log"
    for s in 1 2 3; do run "$m-fp32-seed$s" --model "$m" --format fp32 --lo-bits 7 --compare --epochs "$e" --seed "$s"; done
    # `native` does not depend on the format: the bf16 cells reuse the fp32 cells' runs.
    for s in 1 2 3; do run "$m-bf16-seed$s" --model "$m" --format bf16 --lo-bits 3 --compare single,full,daa,static --epochs "$e" --seed "$s"; done
}

# resnet-mini takes about as long as the rest together.
lane_a() {
    cells lenet5
    for s in 1 2 3; do run "lenet5-sweep-seed$s" --model lenet5 --sweep-lo-bits 5,3,1,0 --epochs 10 --seed "$s"; done
    cells vgg-small
}
lane_b() {
    cells resnet-mini
}
lane_a & lane_b & wait
