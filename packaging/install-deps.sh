#!/usr/bin/env bash
# Installs every Debian package QAT Studio needs to build, run and test.
# Idempotent: runs `apt-get update` at most once and installs only what is missing.
# Works as root or through sudo. Usage: packaging/install-deps.sh
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake pkg-config
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libeigen3-dev libhdf5-dev nlohmann-json3-dev zlib1g-dev
  libflatbuffers-dev flatbuffers-compiler
  libgraphviz-dev libstb-dev
  dataset-fashion-mnist
)
# Fonts so that offscreen screenshots show text.
RUNTIME_PKGS=(fonts-dejavu-core)
# Test only: Arm NN 20.08 runs exported / reference .tflite files as an independent runtime
# (tests/armnn_runner.cpp). Never linked into the engine or the apps. Best effort: when the
# distribution lacks them, the Arm NN tests skip and say which package to install.
# python3-onnx checks exported ONNX files (onnx.checker); nodejs + npm run them in
# onnxruntime (npm onnxruntime-node, installed below into $ORT_PREFIX).
TEST_PKGS=(libarmnntfliteparser-dev libarmnn-cpuref-backend22 python3-onnx nodejs npm)
ORT_PREFIX=/opt/qat-test-node
ORT_VERSION=1.30.0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and no sudo; install these packages by hand: ${BUILD_PKGS[*]} ${RUNTIME_PKGS[*]} (tests: ${TEST_PKGS[*]})" >&2
    exit 1
  fi
fi

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}"; do
  is_installed "$p" || missing+=("$p")
done
missing_test=()
for p in "${TEST_PKGS[@]}"; do
  is_installed "$p" || missing_test+=("$p")
done

# Test only: onnxruntime for Node (the ONNX export's independent runtime). Best effort:
# without network access the ONNX runtime checks skip and say what to install.
install_onnxruntime_node() {
  [ -f "$ORT_PREFIX/node_modules/onnxruntime-node/package.json" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "install-deps: installing test-only onnxruntime-node@$ORT_VERSION into $ORT_PREFIX"
  if ! $SUDO env ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --no-audit --no-fund \
      --prefix "$ORT_PREFIX" "onnxruntime-node@$ORT_VERSION"; then
    echo "install-deps: warning: could not install onnxruntime-node; the ONNX runtime checks will skip" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_test[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  install_onnxruntime_node
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_test[@]} -gt 0 ]; then
  echo "install-deps: installing test-only ${missing_test[*]}"
  for p in "${missing_test[@]}"; do  # one at a time: a package the mirror lacks skips only its tests
    if ! $SUDO apt-get install -y -q --no-install-recommends "$p"; then
      echo "install-deps: warning: could not install $p; the tests that need it will skip" >&2
    fi
  done
fi
install_onnxruntime_node
