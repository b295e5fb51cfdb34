#!/usr/bin/env bash
# The long fuzzing run: every parser that reads user files (safetensors, config.json, tokenizer folders, chat templates,
# hub answers) on many more generated cases than the test suite's 2000 each. Usage: bash build/fuzz.sh [CASES]
# Prints each parser's case count and time; a failure prints the shrunk input and the seed that repeats it.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-50000}
dotnet build tests/NotebookLens.Tests -c Release --nologo -v quiet
NOTEBOOKLENS_FUZZ_CASES=$cases dotnet test tests/NotebookLens.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~NotebookLens.Tests.Robustness" --logger "console;verbosity=normal" 2>&1 \
  | grep -E "Passed |Failed |CsCheck|^\s+(at NotebookLens|----)|Total tests|Passed!|Failed!" || true
echo "$cases generated cases per parser"
