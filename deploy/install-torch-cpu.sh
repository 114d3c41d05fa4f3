#!/usr/bin/env bash
# Install the CPU build of torch into a Python environment, or nothing: never the CUDA build.
#
#   deploy/install-torch-cpu.sh PYTHON [PIP-ARGS-TO-INSTALL-ONCE-TORCH-IS-IN...]
#   e.g. deploy/install-torch-cpu.sh .venv/bin/python -e '.[detoxify]'
#
# torch is needed only by the optional Detoxify backend (modbot[detoxify]). On Linux x86_64,
# `pip install torch` from PyPI is the CUDA build with several GB of NVIDIA libraries, even on
# a machine with no GPU, so this script tries, in order, and prints which path it took:
#   1. a torch wheel already on local disk (pip's configured find-links; no download at all),
#      accepted only if it is a CPU build (its metadata requires no nvidia-* package);
#   2. PyTorch's own CPU wheel index (TORCH_CPU_INDEX), for the `+cpu` build;
#   3. on macOS only, PyPI (its macOS wheels are CPU builds);
# and otherwise skips torch: modbot then uses its other backends and the Detoxify tests skip.
# Exit codes: 0 torch (CPU) is installed (and the extra arguments, if any, were installed);
# 10 skipped: no CPU build obtainable here; anything else: a real failure.
# Environment: TORCH_VERSION (default 2.13.0, as pinned by pyproject's detoxify extra),
# TORCH_CPU_INDEX (default https://download.pytorch.org/whl/cpu), MODBOT_TORCH=skip to skip.
set -uo pipefail

PY=${1:?usage: $0 PYTHON [pip args to install once torch is in]}
shift
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}
PIP=("$PY" -m pip --disable-pip-version-check)
SKIPPED=10

say() { echo "install-torch-cpu: $*"; }

torch_installed() { "$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'; }

# A CPU build names no NVIDIA package among its requirements (CUDA builds on PyPI require
# nvidia-cublas, nvidia-cudnn, ...). Read from the installed metadata, without importing torch.
torch_is_cpu_build() {
    "$PY" - <<'EOF'
import sys
from importlib import metadata
try:
    requires = metadata.requires("torch") or []
except metadata.PackageNotFoundError:
    sys.exit(1)
sys.exit(1 if any(r.lower().startswith("nvidia") for r in requires) else 0)
EOF
}

torch_version() { "$PY" -c 'from importlib import metadata; print(metadata.version("torch"))'; }

# torch itself came in with --no-deps; now its (small, CPU-only) dependencies from the usual
# index. torch is already satisfied, so pip cannot swap in another build.
finish() {
    local how=$1
    if ! torch_is_cpu_build; then
        say "the torch found by '$how' is not a CPU build: removing it"
        "${PIP[@]}" uninstall --quiet --yes torch
        return 1
    fi
    "${PIP[@]}" install --quiet "torch==$(torch_version)" || return 1
    if "${PIP[@]}" list 2>/dev/null | grep -qi '^nvidia'; then
        say "an nvidia-* package is installed beside torch: refusing"
        return 1
    fi
    say "torch $(torch_version) (CPU build) installed from $how"
    return 0
}

install_extra() {
    if [ "$#" -gt 0 ]; then
        say "installing: $*"
        "${PIP[@]}" install --quiet "$@" || exit $?
    fi
}

if [ "${MODBOT_TORCH:-}" = "skip" ]; then
    say "MODBOT_TORCH=skip: torch not installed; the Detoxify backend and its tests are skipped"
    exit $SKIPPED
fi

if torch_installed; then
    if torch_is_cpu_build; then
        say "torch $(torch_version) (CPU build) already installed"
        install_extra "$@"
        exit 0
    fi
    say "torch $(torch_version) is already installed and it is a CUDA build; leaving it as it is"
    install_extra "$@"
    exit 0
fi

# 1. A wheel on local disk: --no-index means pip reads only its configured find-links.
if "${PIP[@]}" install --quiet --no-index --no-deps --only-binary=:all: \
    "torch==$TORCH_VERSION" 2>/dev/null && finish "a local wheel (pip find-links)"; then
    install_extra "$@"
    exit 0
fi

# 2. PyTorch's CPU index. Pinned to the +cpu local version, which only that index carries.
case "$(uname -s)-$(uname -m)" in
    Linux-*) cpu_spec="torch==$TORCH_VERSION+cpu" ;;
    *) cpu_spec="torch==$TORCH_VERSION" ;;
esac
say "no local CPU wheel of torch $TORCH_VERSION; trying $TORCH_CPU_INDEX"
if "${PIP[@]}" install --quiet --no-deps --only-binary=:all: --timeout 20 --retries 1 \
    --index-url "$TORCH_CPU_INDEX" "$cpu_spec" 2>/dev/null && finish "$TORCH_CPU_INDEX"; then
    install_extra "$@"
    exit 0
fi

# 3. macOS: PyPI's torch wheels are CPU (and MPS) builds.
if [ "$(uname -s)" = "Darwin" ]; then
    if "${PIP[@]}" install --quiet --no-deps "torch==$TORCH_VERSION" && finish "PyPI (macOS)"; then
        install_extra "$@"
        exit 0
    fi
fi

say "no CPU build of torch $TORCH_VERSION is obtainable here ($TORCH_CPU_INDEX unreachable);"
say "skipping torch: modbot uses the rules, the sentence encoder and profanity-check, and the"
say "Detoxify tests skip. Never 'pip install torch' from PyPI on Linux x86_64 (CUDA build)."
exit $SKIPPED
