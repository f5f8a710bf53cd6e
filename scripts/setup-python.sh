#!/usr/bin/env bash
# Create <repo>/.venv with a CPU-only PyTorch for the Python workloads (cases/*/pytorch).
#
# Idempotent: if .venv already imports torch and numpy, nothing is installed. numpy is
# installed beside torch because torch warns on every import without it.
#
#   bash scripts/setup-python.sh          # uses python3 from PATH
#   PYTHON=/usr/bin/python3 bash scripts/setup-python.sh
#
# Torch: first `pip install torch==2.13.0+cpu`. That version is not on PyPI; pip finds it
# only where its configuration (pip.conf or PIP_FIND_LINKS) points at a folder or index
# holding the CPU wheel. If that fails we fall back to `pip install torch` from the index,
# which on Linux x86_64 is the CUDA build (about 3 GB with its nvidia packages).
set -euo pipefail

CPU_TORCH="torch==2.13.0+cpu"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
py="${PYTHON:-python3}"
start=$(date +%s)

log() { printf 'setup-python: %s\n' "$*" >&2; }

ready() { [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c "import numpy, torch" 2>/dev/null; }

make_venv() {
    # A failed attempt can leave a venv without pip behind: start from scratch each time.
    rm -rf "$venv"
    "$py" -m venv "$venv"
}

if ready; then
    log "$venv already has torch and numpy; nothing to install"
else
    command -v "$py" >/dev/null || { log "error: $py not found; install Python 3"; exit 1; }
    if ! [ -x "$venv/bin/python3" ] || ! "$venv/bin/python3" -m pip --version >/dev/null 2>&1; then
        log "creating $venv with $("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
        if ! make_venv; then
            # Debian and Ubuntu ship venv/ensurepip in a separate package.
            if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
                log "'$py -m venv' failed; installing python3-venv with apt-get"
                apt-get update -qq
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                make_venv
            else
                log "error: '$py -m venv' failed; install the venv module (Debian/Ubuntu:" \
                    "sudo apt-get install python3-venv) and rerun"
                exit 1
            fi
        fi
    fi
    pip=("$venv/bin/python3" -m pip install --quiet)
    log "installing $CPU_TORCH numpy"
    if ! "${pip[@]}" "$CPU_TORCH" numpy; then
        log "WARNING: $CPU_TORCH is not available from pip's configured sources;"
        log "WARNING: falling back to 'pip install torch' from the index: on Linux x86_64 this"
        log "WARNING: is the large CUDA build (about 3 GB with its nvidia packages)"
        "${pip[@]}" torch numpy
    fi
fi

"$venv/bin/python3" - "$(($(date +%s) - start))" <<'EOF'
import sys
import torch

cuda = torch.version.cuda
print(f"setup-python: python  {sys.executable} ({sys.version.split()[0]})")
print(f"setup-python: torch   {torch.__version__} "
      f"({'CPU-only' if cuda is None else 'built with CUDA ' + cuda})")
print(f"setup-python: took    {sys.argv[1]} s")
EOF
