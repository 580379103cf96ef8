#!/usr/bin/env bash
# Browser tests use Debian's Chromium and CJK fonts; never a downloaded browser.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# WeasyPrint (waybills, statements) needs pango; harfbuzz-subset makes it fast.
# (Lists are captured first: `grep -q` on a pipe trips pipefail with SIGPIPE.)
libs=$(ldconfig -p 2>/dev/null || true)
fonts=$(fc-list 2>/dev/null || true)
grep -q libpango-1.0 <<<"$libs" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
grep -q libharfbuzz-subset <<<"$libs" || need+=(libharfbuzz-subset0)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
grep -qi "Noto Sans CJK" <<<"$fonts" || need+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${need[*]} from Debian..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "ERROR: browser tests need: ${need[*]} (sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
