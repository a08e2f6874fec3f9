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
TEST_PKGS=(libarmnntfliteparser-dev libarmnn-cpuref-backend22)

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

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_test[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
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
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing_test[@]}"; then
    echo "install-deps: warning: could not install ${missing_test[*]}; the Arm NN tests will skip" >&2
  fi
fi
