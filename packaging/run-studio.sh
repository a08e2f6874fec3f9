#!/usr/bin/env bash
# Quick start (1): install what is missing, build, and start the studio on the bundled
# example (builtin:fashion-mlp on Fashion-MNIST). Extra arguments go to qat-studio.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/packaging/install-deps.sh"
"$here/packaging/build.sh"
exec "$here/build/app/qat-studio" "$@"
