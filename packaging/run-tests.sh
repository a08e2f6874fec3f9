#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite with
# CTest (GUI tests run offscreen). Exits non-zero when any test fails.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/packaging/install-deps.sh"
"$here/packaging/build.sh"
cd "$here/build"
export QT_QPA_PLATFORM=offscreen
ctest --output-on-failure --timeout 600 -j1
