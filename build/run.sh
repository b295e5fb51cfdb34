#!/usr/bin/env bash
# The main job: packs the notebook extension (build/pack.sh) and runs every notebook in notebooks/ headless with
# dotnet-repl on the embedded models, offline (HF_HUB_OFFLINE=1: nothing is fetched from the Hugging Face hub), in
# the notebooks folder, where each notebook's `reference` cell finds ../artifacts/feed. Writes each executed notebook
# (with its outputs) and a standalone HTML page of it to artifacts/notebooks/NAME.ipynb and NAME.html, prints where
# they are, and fails if any cell errors. The CLI walk-through is build/run-cli.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then echo "error: no notebook in notebooks/" >&2; exit 1; fi
bash build/fetch-tokenizers.sh  # the Gemma-3 fixture the notebooks compare with needs its real tokenizer
bash build/install-jupyter.sh   # nbconvert makes the HTML pages
dotnet tool restore >/dev/null
bash build/pack.sh >/dev/null
out=artifacts/notebooks
rm -rf "$out"   # only this run's notebooks, none left from a notebook since renamed or removed
mkdir -p "$out"
failed=0
for notebook in "${notebooks[@]}"; do
  name=$(basename "$notebook" .ipynb)
  start=$SECONDS
  status=0
  (cd notebooks && HF_HUB_OFFLINE=1 dotnet tool run dotnet-repl -- --run "$name.ipynb" --exit-after-run \
     --output-path "../$out/$name.ipynb" --output-format ipynb) >"$out/$name.log" 2>&1 || status=$?
  if [ ! -f "$out/$name.ipynb" ]; then
    echo "error: $name: dotnet-repl exited with $status and wrote no notebook; see $out/$name.log" >&2
    failed=1
    continue
  fi
  # dotnet-repl writes cells without their ids: give them back (the notebook's cells, in the same order), then list
  # the cells that errored.
  errors=$(/usr/bin/python3 - "$notebook" "$out/$name.ipynb" <<'PY'
import json, sys
source, executed = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
for mine, run in zip(source["cells"], executed["cells"]):
    run["id"] = mine["id"]
    for output in run.get("outputs", []):
        if output["output_type"] == "error":
            print(f'  cell "{mine["id"]}": {output["evalue"].splitlines()[0] if output["evalue"] else output["ename"]}')
json.dump(executed, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PY
)
  bash build/notebook-html.sh "$out/$name.ipynb"
  [ -s "$out/$name.log" ] || rm -f "$out/$name.log"
  echo "$name: $((SECONDS - start)) s"
  if [ -n "$errors" ] || [ "$status" -ne 0 ]; then
    echo "error: $name: a cell failed (dotnet-repl exited with $status); the outputs: $out/$name.ipynb, $out/$name.html" >&2
    [ -z "$errors" ] || echo "$errors" >&2
    failed=1
  fi
done
echo "executed notebooks and their pages: $(pwd)/$out/ (NAME.ipynb, NAME.html)"
exit "$failed"
