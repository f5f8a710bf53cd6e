#!/usr/bin/env bash
# The test command: installs what the tests need (same set-up as scripts/setup.sh, debug
# build), then runs every test — unit tests and end-to-end runs with real processes.
# The SSH client's tests (each with its own sshd on loopback) run on their own after the
# rest: they once met another test's sshd on their port (docs/DESIGN.md, open problems).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh debug
swift build
swift test --disable-xctest --skip PerfSSHTests
swift test --disable-xctest --filter PerfSSHTests
