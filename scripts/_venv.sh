# Sourced by run-app and run-tests: make .venv (Python 3.11+) and install a requirements file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "coprod_map needs Python 3.11 or newer; $("$PY" --version) found." >&2; exit 1; }

apt_install() {  # install Debian packages when missing and we are root; otherwise say what is needed
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        [ -n "${_APT_UPDATED:-}" ] || { apt-get update -qq; _APT_UPDATED=1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        echo "Please install these Debian packages: $*" >&2
    fi
}

if [ ! -x "$ROOT/.venv/bin/python" ]; then
    "$PY" -m venv "$ROOT/.venv" 2>/dev/null || { apt_install python3-venv; rm -rf "$ROOT/.venv"; "$PY" -m venv "$ROOT/.venv"; }
fi
VENV_PY="$ROOT/.venv/bin/python"
stamp="$ROOT/.venv/.installed-$(basename "$1")"
if [ ! -f "$stamp" ] || [ -n "$(find "$ROOT" -maxdepth 1 -name 'requirements*.txt' -newer "$stamp")" ]; then
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$1"
    touch "$stamp"
fi
