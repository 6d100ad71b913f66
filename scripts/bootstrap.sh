#!/usr/bin/env bash
# Installs what this tree needs on a Debian/Ubuntu machine, then builds it:
# system packages through apt when missing, a virtual environment in .venv,
# the Python dependencies and the native engine (an editable install).
#   scripts/bootstrap.sh [test|bench]   the extra dependency set to add
set -euo pipefail
cd "$(dirname "$0")/.."

extra=${1:-}
venv=.venv

# Step 1: system packages (compiler, CMake, codecs, test speech tools, and
# an X server without a screen for the tests).
apt_packages=(build-essential cmake pkg-config libopus-dev libvpx-dev espeak-ng sox clang-format
  python3 python3-venv python3-dev git)
# The screen-capture tests run under their own Xvfb.
if [ "$extra" = test ] || [ "$extra" = bench ]; then apt_packages+=(xvfb); fi
if [ "$extra" = bench ]; then apt_packages+=(libspeexdsp-dev swig janus); fi
# Headless Chromium for the admin console tests (Playwright drives it; never `playwright install`).
if [ -n "$extra" ]; then apt_packages+=(chromium); fi
# The HTTPS test makes its certificate with openssl.
if [ "$extra" = test ]; then apt_packages+=(openssl); fi
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# A Python built elsewhere (pyenv, uv) brings its own venv and headers.
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  include=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  if [ -f "$include/Python.h" ]; then
    missing=("${missing[@]/python3-venv}")
    missing=("${missing[@]/python3-dev}")
    missing=("${missing[@]/python3}")
  fi
fi
read -r -a missing <<<"${missing[*]:-}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Step 2: the virtual environment and the Python dependencies, redone only
# when pyproject.toml or the wanted extra changes.
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.deps-$(sha1sum pyproject.toml | cut -c1-12)-${extra:-none}"
if [ ! -f "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  # Build tools first: the project and some benchmark anchors (pesq) build
  # without isolation against them.
  "$venv/bin/python" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" numpy \
    setuptools wheel cython
  spec="."
  [ "$extra" = test ] && spec=".[test]"
  [ "$extra" = bench ] && spec=".[test,bench]"
  "$venv/bin/python" -m pip install -q --no-build-isolation -e "$spec"
  rm -f "$venv"/.deps-*
  touch "$stamp"
fi

# Step 3: the native engine, rebuilt incrementally in build/ on every run.
"$venv/bin/python" -m pip install -q --no-build-isolation --no-deps -e .
