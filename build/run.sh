#!/usr/bin/env bash
# The main job on the models shipped with the repository: builds the CLI, then walks the engine's
# lecture steps (architecture, parameters and shapes, one forward pass with every hidden state and
# attention map written as safetensors). Until the embedded default model lands, the tiny fixture
# checkpoints (random weights, real Llama-3 / Gemma-3 architectures) stand in for it.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/NotebookLens.Cli -c Release --nologo -v quiet
cli() { dotnet src/NotebookLens.Cli/bin/Release/net10.0/NotebookLens.Cli.dll "$@"; }
out=${1:-artifacts/run}
mkdir -p "$out"
# "The apple is green. What color is the apple?" as each model's tokenizer encodes it (BOS first).
declare -A prompt=(
  [llama3-tiny]=128000,791,24149,374,6307,13,3639,1933,374,279,24149,30
  [gemma3-tiny]=2,818,17810,563,3826,236761,2900,2258,563,506,17810,236881
)
for model in llama3-tiny gemma3-tiny; do
  echo "== $model"
  cli info --model "tests/fixtures/$model" --parameters
  cli dump --model "tests/fixtures/$model" --ids "${prompt[$model]}" --dtype float32 --out "$out/$model.safetensors"
done
