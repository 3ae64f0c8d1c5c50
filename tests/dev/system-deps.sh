#!/usr/bin/env bash
# The Debian packages a few tests drive as real programs, installed when missing (run by
# `make test`, so a fresh machine needs nothing but the README's command):
#  - Chromium, for the status page's browser test (Playwright cannot download one here);
#  - LibreOffice calc, poppler and Carlito (Calibri's metrics), for the printed-workbook test
#    (tests/test_xlsx_print.py): about 35-45 s and 92 MB of packages the first time.
# Fast when all is there. Without apt or root it says what is missing and the tests that need it
# fail with that message (they never skip).
set -u
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
fc-list : family 2>/dev/null | grep -q Carlito || missing+=(fonts-crosextra-carlito)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing the test suite's system packages: ${missing[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "cannot install them here (needs root and apt-get): install ${missing[*]} by hand" >&2
  exit 0
fi
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }
rest=()
for pkg in "${missing[@]}"; do
  if [ "$pkg" = chromium ]; then  # with its recommended packages (its fonts)
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null \
      || { apt-get update >/dev/null \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; } \
      || echo "could not install chromium" >&2
  else
    rest+=("$pkg")
  fi
done
if [ ${#rest[@]} -gt 0 ]; then
  apt_install "${rest[@]}" >/dev/null \
    || { apt-get update >/dev/null && apt_install "${rest[@]}" >/dev/null; } \
    || echo "could not install ${rest[*]}" >&2
fi
exit 0
