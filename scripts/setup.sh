#!/usr/bin/env bash
# Install everything the generator needs on Debian 12, as root: LibreOffice, qpdf, poppler,
# fonts, and a virtualenv (.venv) with the package and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-uno
  libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui
  qpdf poppler-utils
  jbig2dec  # JBIG2 images (scanned PDFs): qpdf's check decodes them through pikepdf
  fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea
  chromium  # browser tests of beslut web (Playwright drives Debian's chromium)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's python3 carries the LibreOffice bindings (uno) that unoserver needs, so the
# virtualenv is made from it and sees its system packages.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import uno" 2>/dev/null; then
  echo "==> creating .venv"
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> pip install -e .[test]"
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[test]"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "pip install failed (log: $log)" >&2
    exit 1
  fi
  rm -f .venv/.installed-* && touch "$stamp"
fi
