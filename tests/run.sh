#!/usr/bin/env bash
# The test command: installs what the tests read from outside the repository, then runs every test project.
#   bash tests/run.sh [dotnet test options...]
# - ONNX operator conformance data (Debian's libonnx-testdata, /usr/share/libonnx-testdata/data/node) is installed
#   with apt-get when it is missing and TRANSFERKIT_ONNX_TESTDATA does not point elsewhere. Where it cannot be
#   installed, the conformance tests fail and name the package and the variable; nothing is skipped.
# - The shared models and datasets are read from ../shared (or TRANSFERKIT_SHARED); they are never copied here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TRANSFERKIT_ONNX_TESTDATA:-}" ] && [ ! -d /usr/share/libonnx-testdata/data/node ]; then
  if command -v apt-get >/dev/null; then
    echo "tests/run.sh: installing libonnx-testdata (ONNX conformance data) ..."
    sudo_cmd=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo_cmd="sudo"; fi
    ($sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq libonnx-testdata) >/dev/null \
      || echo "tests/run.sh: could not install libonnx-testdata; the conformance tests will say what is missing." >&2
  else
    echo "tests/run.sh: apt-get not found; install libonnx-testdata or set TRANSFERKIT_ONNX_TESTDATA." >&2
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet test TransferKit.sln -c Release "$@"
