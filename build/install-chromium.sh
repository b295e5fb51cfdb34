#!/usr/bin/env bash
# The browser tests (tests/NotebookLens.Views.Tests) open reports in Debian's headless Chromium through
# PuppeteerSharp; Puppeteer's own browser download does not work offline, so the distribution's package is used.
# A CJK font (WenQuanYi Zen Hei, 7 MB) lets the screenshots show tiny's Chinese tokens instead of empty boxes.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-zenhei)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} (apt-get)" >&2
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
