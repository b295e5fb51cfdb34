#!/usr/bin/env bash
# The test command: installs the real tokenizer files (npm), Chromium and Jupyter (apt-get, when missing), checks the
# embedded machine code against its source (gcc), restores, builds (warnings are errors) and runs every test.
# Prints a closing "N passed, N failed" line and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/fetch-tokenizers.sh
bash build/install-chromium.sh
bash build/install-jupyter.sh
# The machine code the engine carries (Bf16DotCode.cs, F32GemmCode.cs) must be what its C sources compile to.
bash build/native-code.sh --check
dotnet build NotebookLens.sln -c Release --nologo -v quiet
log=$(mktemp)
status=0
# One test assembly at a time (-m:1): two at once on two cores oversubscribe libtorch's threads, and a kernel test that
# waits for a refusal run's progress timed out after 120 s (7 s alone).
dotnet test NotebookLens.sln -c Release --no-build --nologo -m:1 2>&1 | tee "$log" || status=$?
passed=$(sed -n 's/.*Passed: *\([0-9]*\),.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(sed -n 's/.*Failed: *\([0-9]*\),.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "$passed passed, $failed failed"
if [ "$passed" -eq 0 ]; then echo "error: no test ran" >&2; exit 1; fi
exit "$status"
