#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine: the system packages perfctl needs, the Python
# environment of the bundled cases (.venv with a CPU-only torch), and a release build.
# Idempotent: run it again after pulling. Prints what it did.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
command -v pgrep >/dev/null || need_apt+=(procps)
command -v ip >/dev/null || need_apt+=(iproute2)   # network namespaces of the test cluster
# libssh2 to build PerfSSH; sshd and ssh-keygen for its tests against a real server;
# pdsh, the OpenSSH baseline of `perf-bench preflight`.
if command -v dpkg >/dev/null; then
  for package in libssh2-1-dev openssh-server openssh-client pdsh; do
    dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install: ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

if ! command -v swift >/dev/null; then
  for candidate in /opt/swift/usr/bin /opt/swift/bin; do
    [ -x "$candidate/swift" ] && export PATH="$candidate:$PATH" && break
  done
fi
command -v swift >/dev/null || { echo "setup: Swift 6 is not installed: get a toolchain from swift.org and put 'swift' on PATH" >&2; exit 1; }

bash scripts/setup-python.sh

configuration=${1:-release}
echo "setup: building perfctl and perf-agent ($configuration)"
swift build -c "$configuration" --product perfctl
swift build -c "$configuration" --product perf-agent
echo "setup: done; run .build/$configuration/perfctl run cases/llama2_7b"
