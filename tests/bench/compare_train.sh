#!/usr/bin/env bash
# Float training throughput, studio vs PyTorch, measured in the same run on the same
# machine: one epoch of Fashion-MNIST, batch 64, Adam, data pre-loaded.
# Usage: tests/bench/compare_train.sh [BUILD_DIR=build] [THREADS=2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
threads="${2:-2}"
studio=$(OMP_NUM_THREADS=$threads "$build/tests/bench/bench_train" "$threads")
echo "$studio"
torch=$(/usr/bin/python3 "$here/pytorch_train.py" "$threads" 2>/dev/null) || {
  echo "PyTorch twin unavailable (needs /usr/bin/python3 with python3-torch): no ratio"; exit 0; }
echo "$torch"
/usr/bin/python3 - "$studio" "$torch" <<'PY'
import json, sys
s = {j["model"]: j for j in map(json.loads, sys.argv[1].splitlines())}
t = {j["model"]: j for j in map(json.loads, sys.argv[2].splitlines()) if "model" in j}
for name in s:
    if name in t:
        r = s[name]["samples_per_sec"] / t[name]["samples_per_sec"]
        print(f"{name}: studio {s[name]['samples_per_sec']:.0f} samples/s, PyTorch "
              f"{t[name]['samples_per_sec']:.0f} samples/s, ratio studio/PyTorch {r:.2f}x, "
              f"{s[name]['gflops']:.1f} GFLOP/s = {100*s[name]['peak_fraction']:.1f}% of FP32 peak")
PY
