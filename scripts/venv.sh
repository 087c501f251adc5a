# Shared by test.sh and demo.sh: create .venv and install the package once.
ensure_venv() {
  local extras="$1"
  local stamp=".venv/.installed-${extras}"
  if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
  fi
  if [[ ! -f "$stamp" || setup.cfg -nt "$stamp" ]]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[${extras}]"
    touch "$stamp"
  fi
}
