#!/usr/bin/env bash
# Accuracy of float, post-training (PTQ) and quantization-aware training (QAT) on the
# issue's set-up: builtin:fashion-cnn trained in float for 3 epochs (Adam 1e-3, batch 64),
# then 1 QAT epoch (Adam 1e-4) with the default 8-bit scheme in both BatchNorm modes and
# with W4A8. Test accuracy on the 10,000 Fashion-MNIST test images.
# Usage: tests/bench/qat_accuracy.sh [BUILD_DIR=build] [THREADS=2] [WORK_DIR=mktemp]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
threads="${2:-2}"
work="${3:-$(mktemp -d)}"
cli="$build/app/qat-cli"
"$cli" train --model builtin:fashion-cnn --epochs 3 --threads "$threads" --out "$work/float.h5" --json \
  | tail -1 > "$work/float.json"
run() {  # name, extra quantize options...
  local name="$1"; shift
  "$cli" quantize --model "$work/float.h5" --threads "$threads" --json --out "$work/$name.h5" "$@" \
    | tail -1 > "$work/$name.json"
}
run ptq --epochs 0
run qat_default8_tfmot --epochs 1
run qat_default8_fold --epochs 1 --bn-mode fold
run qat_w4a8_fold --epochs 1 --bn-mode fold --scheme w4a8
/usr/bin/python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
load = lambda n: json.load(open(os.path.join(w, n + ".json")))
f = load("float")["test"]["accuracy"]
print(f"float (3 epochs)                 {f:.4f}")
for name in ["ptq", "qat_default8_tfmot", "qat_default8_fold", "qat_w4a8_fold"]:
    j = load(name)
    key = "qat" if "qat" in j else "post_training"
    a = j[key]["accuracy"]
    extra = f"  PTQ before QAT {j['post_training']['accuracy']:.4f}" if key == "qat" else ""
    sps = f"  {j['samples_per_sec']:.0f} samples/s" if "samples_per_sec" in j else ""
    print(f"{name:32s} {a:.4f}  ({100 * (a - f):+.2f} points vs float){extra}{sps}")
PY
