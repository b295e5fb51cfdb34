#!/usr/bin/env bash
# One standalone HTML page per executed notebook (NAME.ipynb -> NAME.html beside it): JupyterLab's look, without the
# require.js and MathJax that Debian's nbconvert loads from this machine's disk (build/nbconvert/standalone); our
# outputs carry their own scripts, plotly.js included. Needs build/install-jupyter.sh.
set -euo pipefail
templates="$(cd "$(dirname "$0")" && pwd)/nbconvert"
/usr/bin/jupyter nbconvert --log-level=WARN --to html --TemplateExporter.extra_template_basedirs="$templates" --template standalone "$@"
