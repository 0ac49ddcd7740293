#!/usr/bin/env bash
# The prepared GPU check (issue 14 item 5): run as is, from the repository root, on a machine with one
# CUDA GPU; budgeted for 8 minutes on one H100-class GPU (lane cut at 150 s, benchmark at 300 s; not yet run on one):
#
#   make install TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cu128'   # a CUDA build of torch
#   bash benchmarks/gpu_check.sh                       # -> benchmarks/results/gpu_check.json
#
# (an existing .venv holding the CPU wheel: `make clean` first, or
#  .venv/bin/python -m pip install --force-reinstall torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128;
#  check with  .venv/bin/python -c "import torch; print(torch.cuda.is_available())")
#
# It (a) runs the device test lane tests/test_devices.py + tests/test_hotloop.py (every device test on the CPU and on cuda), then (b) runs
# benchmarks/gpu_bench.py: training and certification images/s of the dense Lip-MonDEQ (n = 1024), the conv
# SLL and its DAG-LBEN, and the full-size DEQ-3, each against the same model on the CPU in the same process,
# with the test lane's pass/skip counts, into the JSON (docs/performance.md "GPU check" says how to read it).
# Commit the JSON. Exit status: non-zero if a test failed or a measurement raised (the JSON is written anyway).
#
#   bash benchmarks/gpu_check.sh --dry-run --out /tmp/gpu_check.json      (or GPU_CHECK_DRY_RUN=1)
#
# is the CPU-only dry run (tiny sizes, a few steps, a quick slice of the test lane; well under a minute): it
# checks that the script works, and can never write the committed JSON (gpu_bench.py refuses). Without CUDA
# and without --dry-run, gpu_bench.py refuses to run. Environment: PYTHON (default .venv/bin/python, else
# python3), GPU_CHECK_OUT (the JSON's path), GPU_CHECK_BUDGET_S (gpu_bench.py's time budget, default 300).
set -u -o pipefail
CHECK_COMMAND="bash benchmarks/gpu_check.sh $*"
cd "$(dirname "$0")/.."

DRY="${GPU_CHECK_DRY_RUN:-0}"
OUT="${GPU_CHECK_OUT:-benchmarks/results/gpu_check.json}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out) OUT="$2"; shift ;;
    --out=*) OUT="${1#--out=}" ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $1 (--dry-run, --out PATH)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
BENCH=("$PYTHON" benchmarks/gpu_bench.py --out "$OUT" --budget-s "${GPU_CHECK_BUDGET_S:-300}")
LANE=("$PYTHON" -m pytest -q -p no:cacheprovider tests/test_devices.py tests/test_hotloop.py -rs)
if [ "$DRY" = "1" ]; then
  BENCH+=(--dry-run)
  LANE+=(-k "test_every_solver_reaches_the_numpy_fixed_point and masked")   # a quick slice: the dry run checks the plumbing
  LANE_TIMEOUT=60
else
  "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
    "$PYTHON" -c "import torch; print('gpu_check.sh: no CUDA device for torch', torch.__version__, '(CUDA build:', torch.version.cuda, ')')" >&2
    echo "gpu_check.sh: install a CUDA build of torch (header of this script) or use --dry-run" >&2
    exit 2
  }
  LANE_TIMEOUT=150
fi

echo "== (a) device test lane: ${LANE[*]}"
timeout "$LANE_TIMEOUT" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${LANE[@]}" --junitxml "$TMP/lane.xml"
LANE_RC=$?
echo "== (b) throughput, device vs CPU: ${BENCH[*]}"
"${BENCH[@]}" --tests-junit "$TMP/lane.xml" --tests-rc "$LANE_RC" --tests-command "${LANE[*]}" --check-command "$CHECK_COMMAND"
BENCH_RC=$?
if [ "$LANE_RC" -ne 0 ] || [ "$BENCH_RC" -ne 0 ]; then
  echo "gpu_check.sh: FAILED (test lane exit $LANE_RC, benchmark exit $BENCH_RC); see $OUT" >&2
  exit 1
fi
echo "gpu_check.sh: done; $OUT"
