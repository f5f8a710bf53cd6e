#!/usr/bin/env bash
# The test command: installs what the tests need (same set-up as scripts/setup.sh, debug
# build), then runs every test — unit tests and end-to-end runs with real processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh debug
swift build
swift test --disable-xctest
