#!/usr/bin/env bash
# The test command: installs what the tests need (same set-up as scripts/setup.sh, debug
# build), then runs every test — unit tests and end-to-end runs with real processes.
# The SSH client's tests (each with its own sshd on loopback) run on their own, one at a
# time, after the rest: under the main suite's load they met a foreign sshd on their port
# (see docs/DESIGN.md, open problems).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh debug
swift build
swift test --disable-xctest --skip PerfSSHTests
swift test --disable-xctest --filter PerfSSHTests --no-parallel
