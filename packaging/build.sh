#!/usr/bin/env bash
# Configures and builds QAT Studio into ./build (Release). Used by the two Quick start
# scripts; safe to run again (incremental).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >build-configure.log 2>&1 || {
  cat build-configure.log >&2; echo "configure failed (log: build-configure.log)" >&2; exit 1; }
cmake --build build -j"$jobs"
