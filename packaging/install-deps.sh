#!/usr/bin/env bash
# Installs every Debian package QAT Studio needs to build, run and test.
# Idempotent: runs `apt-get update` at most once and installs only what is missing.
# Works as root or through sudo. Usage: packaging/install-deps.sh [--runtime-only]
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

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and no sudo; install these packages by hand: ${BUILD_PKGS[*]} ${RUNTIME_PKGS[*]}" >&2
    exit 1
  fi
fi

missing=()
for p in "${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
