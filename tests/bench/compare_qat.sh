#!/usr/bin/env bash
# QAT throughput, studio vs PyTorch eager QAT, and QAT cost vs float training, measured in
# the same run on the same machine: one epoch of Fashion-MNIST each, batch 64, Adam.
# Usage: tests/bench/compare_qat.sh [BUILD_DIR=build] [THREADS=2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
threads="${2:-2}"
studio=$(OMP_NUM_THREADS=$threads "$build/tests/bench/bench_qat" "$threads")
echo "$studio"
torch=$(/usr/bin/python3 "$here/pytorch_qat.py" "$threads" 2>/dev/null) || {
  echo "PyTorch twin unavailable (needs /usr/bin/python3 with python3-torch): no ratio"; exit 0; }
echo "$torch"
/usr/bin/python3 - "$studio" "$torch" <<'PY'
import json, sys
s = {j["model"]: j for j in map(json.loads, sys.argv[1].splitlines())}
t = {j["model"]: j for j in map(json.loads, sys.argv[2].splitlines()) if "model" in j}
for name, j in s.items():
    line = (f"{name}: studio QAT {j['qat_fold_samples_per_sec']:.0f} samples/s (fold), "
            f"{j['qat_tfmot_samples_per_sec']:.0f} (tfmot); QAT/float time "
            f"{j['qat_fold_time_ratio']:.2f}x (fold), {j['qat_tfmot_time_ratio']:.2f}x (tfmot)")
    if name in t:
        p = t[name]
        line += (f"; PyTorch QAT {p['qat_samples_per_sec']:.0f} samples/s "
                 f"(float {p['float_samples_per_sec']:.0f}); studio/PyTorch QAT "
                 f"{j['qat_fold_samples_per_sec'] / p['qat_samples_per_sec']:.2f}x")
    print(line)
PY
