#!/usr/bin/env bash
# Kill test of `transferkit finetune`: kills a small run (mnist-8 on 400 Fashion-MNIST images, all layers training)
# KILLS times (default 20) with SIGKILL — at random moments, and every third time inside a checkpoint write
# (TRANSFERKIT_KILL_AT=STEP:EPOCH makes the process kill itself at that step; see CheckpointKillSwitch) — resuming
# after each kill (starting afresh when the kill came before the first checkpoint), and checks that every run it
# resumes to the end writes a tuned.onnx byte-identical to the uninterrupted run's. When a run finishes before the
# kills are used up, another run starts. Exit 0 when every finished run matched, 1 otherwise.
#
#   tests/kill-resume.sh [KILLS] [SEED]        (SHARED=/path/to/shared overrides ../shared; builds FineTune first)
set -euo pipefail

KILLS=${1:-20}
SEED=${2:-$RANDOM}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-${TRANSFERKIT_SHARED:-$HERE/../shared}}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transferkit-kill-resume-XXXXXX")
RANDOM=$SEED
# Longest wait before a random kill, in milliseconds (an uninterrupted run takes about 5 s on one core).
MAX_DELAY_MS=6000
# A run that takes longer than this has hung.
TIMEOUT_S=300
STEPS=(last-written last-replaced best-written best-replaced)
EPOCHS=6

dotnet build "$HERE/FineTune" -c Release -v quiet -nologo >/dev/null
CLI="$HERE/FineTune/bin/Release/net10.0/transferkit.dll"
ARGS=(--model "$SHARED/models/mnist-8.onnx" --data "$SHARED/datasets/fashion-mnist" --limit-train 400 --limit-val 100
      --epochs "$EPOCHS" --recipe full --lr 0.01 --seed 5 --threads 1)
echo "kill-resume: $KILLS kills, seed $SEED, work folder $WORK"

timeout "$TIMEOUT_S" dotnet "$CLI" finetune "${ARGS[@]}" --out "$WORK/reference" >"$WORK/reference.log" 2>&1 \
  || { echo "the uninterrupted run failed:"; cat "$WORK/reference.log"; exit 1; }

kills=0 rounds=0 failures=0 self_kills=0
while (( kills < KILLS )); do
  rounds=$((rounds + 1))
  run="$WORK/run-$rounds"
  while :; do
    if [[ -f "$run/checkpoints/last.tkc" ]]; then cmd=(finetune --resume "$run" --threads 1); else cmd=(finetune "${ARGS[@]}" --out "$run"); fi
    done_epochs=$(grep -sc '^[0-9]' "$run/metrics.csv" || true); done_epochs=${done_epochs:-0}
    if (( kills < KILLS && kills % 3 == 2 && done_epochs < EPOCHS )); then
      # Inside a checkpoint write: a random step of a random epoch still to come (best-* only fire on a new best).
      at="${STEPS[RANDOM % ${#STEPS[@]}]}:$((done_epochs + 1 + RANDOM % (EPOCHS - done_epochs)))"
      # (as a background job waited for, so that bash does not report the kill as it does a foreground job's)
      TRANSFERKIT_KILL_AT=$at timeout "$TIMEOUT_S" dotnet "$CLI" "${cmd[@]}" >>"$run.log" 2>&1 &
      wait $! 2>/dev/null && status=0 || status=$?
      echo "  [$rounds] ${cmd[1]:-} kill at $at: exit $status" >>"$WORK/kills.log"
      if (( status == 137 )); then kills=$((kills + 1)); self_kills=$((self_kills + 1)); continue; fi
    elif (( kills < KILLS )); then
      delay=$((RANDOM % MAX_DELAY_MS))
      dotnet "$CLI" "${cmd[@]}" >>"$run.log" 2>&1 &
      pid=$!
      sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null && status=0 || status=$?
        echo "  [$rounds] random kill after ${delay} ms: exit $status" >>"$WORK/kills.log"
        if (( status == 137 )); then kills=$((kills + 1)); continue; fi
      else
        wait "$pid" && status=0 || status=$?
      fi
    else
      timeout "$TIMEOUT_S" dotnet "$CLI" "${cmd[@]}" >>"$run.log" 2>&1 && status=0 || status=$?
    fi
    # The process ended by itself: it must have finished the run.
    if (( status != 0 )); then
      echo "round $rounds: transferkit ${cmd[*]} exited $status:"; tail -5 "$run.log"; failures=$((failures + 1)); break
    fi
    if cmp -s "$WORK/reference/tuned.onnx" "$run/tuned.onnx"; then
      echo "round $rounds: finished, tuned.onnx byte-identical to the uninterrupted run's ($kills kills so far)"
    else
      echo "round $rounds: tuned.onnx DIFFERS from the uninterrupted run's"; failures=$((failures + 1))
    fi
    break
  done
done
echo "kill-resume: $kills kills ($self_kills inside checkpoint writes) over $rounds runs, $failures failures; log: $WORK/kills.log"
(( failures == 0 ))
