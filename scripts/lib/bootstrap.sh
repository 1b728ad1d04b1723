# Sourced by scripts/serve and scripts/test: makes .venv with the pinned dependencies.
# Re-installs only when requirements.lock or pyproject.toml changed since the last install.

vermilion_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
        echo "$candidate"
        return 0
    fi
  done
  echo "Vermilion needs Python 3.11 (python3.11 or python3 on PATH)." >&2
  return 1
}

ensure_venv() {
  local python stamp want
  python=$(vermilion_python) || return 1
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$python" -m venv .venv || return 1
  fi
  stamp=.venv/.vermilion-installed
  want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing pinned dependencies (requirements.lock)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock || return 1
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . || return 1
    echo "$want" >"$stamp"
  fi
}
