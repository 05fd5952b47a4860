#!/bin/bash
# The full-data study of docs/training.md ("Plan for the full-data study"), resumable.
#
#   scripts/run_study.sh [OUT]      (default OUT: study_out)
#
# Jobs (a model's schedule runs, a (model, format, seed) cell, a lo_bits sweep) go through
# a queue that LANES workers (default 2) take from, each running one job at a time with
# one thread: on a 2-core machine two 1-thread runs side by side finish 1.4x sooner than
# the same runs one after the other with 2 threads each, and a run's results do not
# depend on its thread count. A cell waits for its model's epoch count E, which the
# schedule job writes to OUT/epochs-<model>. Every command passes --resume, so after an
# interruption the same call continues each run from its last epoch and skips finished
# ones; stop it with kill -TERM "$(cat OUT/run_study.pid)" (its runs stop with it).
# Progress lines go to OUT/<run>.log, one start/end line per run to OUT/all.log;
# the exit status is 1 if any run's last attempt failed, 2 if a study is already running
# in OUT.
# Copy finished cells into docs/training/study/ without their checkpoint.bin files and
# run scripts/study_analysis.py --update docs/training.md on them for the table.
#
# JOBS: an extended regular expression; only the queue's jobs that match it run
# (JOBS=resnet-mini: its schedule job and its cells). A job's words are as in the queue
# below: "schedule M", "cell M F S", "sweep S".
# FROM: a directory of finished results laid out as docs/training is (its study/<cell>/
# and schedule/<M>-native-e<E>/ directories), copied into OUT where OUT has nothing of
# theirs, so that a new machine continues the study instead of repeating it:
# `daa train --resume` takes a finished run's summary.json, checkpoint or not, for the
# run. FROM=docs/training JOBS=resnet-mini scripts/run_study.sh OUT runs what is left
# of resnet-mini's cells.
# DAA: the daa binary (default target/release/daa; `cargo build --release` first).
# EXTRA: more `daa train` flags for every run, only to smoke-test this script
# (EXTRA="--train-subset 128 --test-subset 100"); the study itself uses all the data.
set -u
OUT=${1:-study_out}
DAA=${DAA:-target/release/daa}
LANES=${LANES:-2}
JOBS=${JOBS:-.}
FROM=${FROM:-}
read -r -a EXTRA_ARGS <<< "${EXTRA:-}"
[ -x "$DAA" ] || { echo "error: $DAA not found: run cargo build --release, or set DAA" >&2; exit 2; }
[ -z "$FROM" ] || [ -d "$FROM" ] || { echo "error: FROM=$FROM is not a directory (finished results, as docs/training)" >&2; exit 2; }
# The models, in queue order: lenet5's E comes first, resnet-mini, the longest, last.
MODELS=(lenet5 vgg-small resnet-mini)
# Every job but the schedule jobs (one per model, added to the queue as its cells need);
# JOBS picks from them.
all_jobs() {
    local m f s
    for m in "${MODELS[@]}"; do
        for f in fp32 bf16; do for s in 1 2 3; do echo "cell $m $f $s"; done; done
        [ "$m" != lenet5 ] || for s in 1 2 3; do echo "sweep $s"; done
    done
}
picked=$(all_jobs | grep -E -- "$JOBS")
[ $? -le 1 ] || { echo "error: JOBS=$JOBS is not an extended regular expression (grep -E)" >&2; exit 2; }
[ -n "$picked" ] || printf 'schedule %s\n' "${MODELS[@]}" | grep -qE -- "$JOBS" \
    || { echo "error: JOBS=$JOBS matches no job (schedule M, cell M F S, sweep S)" >&2; exit 2; }
mkdir -p "$OUT"
# One study per output directory: a second copy would train the same runs at once.
exec 8> "$OUT/lock"
flock -n 8 || { echo "error: a study is already running in $OUT (its lock: $OUT/lock)" >&2; exit 2; }
# Whom to signal to stop it (kill -TERM "$(cat OUT/run_study.pid)"), whatever started it.
echo $$ > "$OUT/run_study.pid"
# Stopping the script stops its workers and their runs (their children: `daa`, `sleep`).
pids=()
stop_workers() {
    local p
    for p in "${pids[@]}"; do pkill -TERM -P "$p" 2> /dev/null; kill "$p" 2> /dev/null; done
}
trap 'stop_workers; exit 130' INT TERM
QUEUE="$OUT/queue"

# Finished runs from FROM, without overwriting anything in OUT (a checkpoint there is newer).
if [ -n "$FROM" ]; then
    for d in "$FROM"/study/*/; do
        mkdir -p "$OUT/$(basename "$d")" && cp -rn "$d." "$OUT/$(basename "$d")/"
    done
    for d in "$FROM"/schedule/*-native-e*/; do
        b=$(basename "$d")
        to="$OUT/schedule-${b%-native-e*}-e${b##*-native-e}"
        mkdir -p "$to" && cp -rn "$d." "$to/"
    done
fi

log() { echo "$(date -u +%FT%T) $*" >> "$OUT/all.log"; }

run() {
    local name=$1; shift
    log "start $name"
    nice -n 10 "$DAA" train "$@" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} --threads 1 --resume --out "$OUT/$name" >> "$OUT/$name.log" 2>&1
    local rc=$?
    log "end $name rc=$rc"
    return $rc
}

# `native` at 10, 20 and 40 epochs; E is the fewest within 1 pp of the best of the three.
schedule() {
    local m=$1 e ok=1
    for e in 10 20 40; do run "schedule-$m-e$e" --model "$m" --policy native --epochs "$e" --seed 1 || ok=0; done
    if [ $ok = 1 ] && python3 - "$OUT"/schedule-"$m"-e{10,20,40}/summary.json > "$OUT/epochs-$m.tmp" <<'PY'
import json, sys
acc = {e: json.load(open(p))["test_accuracy"] for e, p in zip((10, 20, 40), sys.argv[1:])}
print(min(e for e, a in acc.items() if max(acc.values()) - a <= 0.01))
PY
    then
        mv "$OUT/epochs-$m.tmp" "$OUT/epochs-$m"
    else
        echo failed > "$OUT/epochs-$m.tmp" && mv "$OUT/epochs-$m.tmp" "$OUT/epochs-$m"
    fi
    log "$m: epochs $(cat "$OUT/epochs-$m")"
}

# The epoch count of model $1, once its schedule job has written it.
epochs_of() {
    # The sleep does not hold the lock (fd 8): stopping the study must free it at once.
    while [ ! -f "$OUT/epochs-$1" ]; do sleep 30 8>&-; done
    cat "$OUT/epochs-$1"
}

cell() {
    local m=$1 f=$2 s=$3 e full=full,
    e=$(epochs_of "$m")
    [ "$e" = failed ] && { log "skip $m-$f-seed$s: the schedule runs of $m failed"; return; }
    # `full` is optional in the study; resnet-mini, the costliest model, leaves it out.
    [ "$m" = resnet-mini ] && full=
    if [ "$f" = fp32 ]; then
        run "$m-fp32-seed$s" --model "$m" --format fp32 --lo-bits 7 --compare "native,single,${full}daa,static" --epochs "$e" --seed "$s"
    else
        # `native` does not depend on the format: the fp32 cell's run stands for it.
        run "$m-bf16-seed$s" --model "$m" --format bf16 --lo-bits 3 --compare "single,${full}daa,static" --epochs "$e" --seed "$s"
    fi
}

sweep() {
    local s=$1 e
    e=$(epochs_of lenet5)
    [ "$e" = failed ] && { log "skip lenet5-sweep-seed$s: the schedule runs of lenet5 failed"; return; }
    run "lenet5-sweep-seed$s" --model lenet5 --sweep-lo-bits 5,3,1,0 --epochs "$e" --seed "$s"
}

# The queue, rebuilt on every start (finished runs only reload their checkpoints): the
# schedule jobs first, then lenet5's jobs (its E comes first), so that a lane seldom waits
# for an E; resnet-mini, the longest, last. JOBS picks from it; a model's schedule job
# stays whenever one of its cells (or, for lenet5, a sweep) does, since they wait for its E.
{
    for m in "${MODELS[@]}"; do
        if echo "schedule $m" | grep -qE -- "$JOBS" || grep -q "^cell $m " <<< "$picked" \
            || { [ $m = lenet5 ] && grep -q "^sweep " <<< "$picked"; }; then
            echo "schedule $m"
        fi
    done
    [ -z "$picked" ] || echo "$picked"
} > "$QUEUE"
rm -f "$OUT"/epochs-*

# Takes the next job off the queue (empty when there is none).
next_job() {
    (
        flock 9
        head -n 1 "$QUEUE"
        sed -i 1d "$QUEUE"
    ) 9> "$QUEUE.lock"
}

worker() {
    local job
    while job=$(next_job) && [ -n "$job" ]; do
        # shellcheck disable=SC2086 # a job is a function name and its words
        $job
    done
}

for _ in $(seq "$LANES"); do worker & pids+=($!); done
wait
log "queue empty"
# A run failed if its last attempt in all.log did; the exit status says whether any did.
failed=$(awk '$2 == "end" { rc[$3] = $4 } END { n = 0; for (r in rc) if (rc[r] != "rc=0") n++; print n }' "$OUT/all.log")
[ "$failed" = 0 ] || { echo "error: $failed run(s) failed, see $OUT/all.log" >&2; exit 1; }
