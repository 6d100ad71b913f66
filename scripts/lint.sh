#!/usr/bin/env bash
# Static checks: ruff (style and bugs), mypy --strict, clang-format on native/.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
"$venv/bin/ruff" check src tests bench
"$venv/bin/ruff" format --check src tests bench
"$venv/bin/mypy"
if command -v clang-format >/dev/null; then
  find native -name '*.h' -o -name '*.cc' | xargs clang-format --dry-run -Werror
fi
