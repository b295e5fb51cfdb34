#!/usr/bin/env bash
# The main job on the models shipped with the repository: builds the CLI, then walks the lecture's
# steps (architecture, parameters and shapes, tokens and ids, a chat prompt, one forward pass with every
# hidden state and attention map written as safetensors, a generation, embedding neighbours, the logit
# lens, attention heads, the refusal-direction experiment and Patchscope). Until the embedded default
# model lands, the tiny fixture checkpoints (random weights, real Llama-3 / Gemma-3 architectures and
# tokenizers) stand in for it, so the generated text is gibberish.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/fetch-tokenizers.sh
dotnet build src/NotebookLens.Cli -c Release --nologo -v quiet
cli() { dotnet src/NotebookLens.Cli/bin/Release/net10.0/NotebookLens.Cli.dll "$@"; }
out=${1:-artifacts/run}
mkdir -p "$out"
# "The apple is green. What color is the apple?" as each model's tokenizer encodes it (BOS first).
declare -A prompt=(
  [llama3-tiny]=128000,791,24149,374,6307,13,3639,1933,374,279,24149,30
  [gemma3-tiny]=2,818,17810,563,3826,236761,2900,2258,563,506,17810,236881
)
messages="$out/messages.json"
echo '[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What color is a green apple?"}]' > "$messages"
for model in llama3-tiny gemma3-tiny; do
  dir="tests/fixtures/$model"
  echo "== $model"
  cli info --model "$dir" --parameters
  echo "-- tokens"
  cli tokenize --model "$dir" --text "大家好"
  echo "-- chat prompt"
  cli chat --model "$dir" --messages "$messages" --add-generation-prompt
  echo "-- forward pass"
  cli dump --model "$dir" --ids "${prompt[$model]}" --dtype float32 --out "$out/$model.safetensors"
  echo "-- generation"
  cli generate --model "$dir" --text "What color is a green apple?" --chat --max-new-tokens 12 --greedy
  echo "-- embedding neighbours, logit lens, attention"
  cli neighbors --model "$dir" --token "apple" --k 5
  cli lens --model "$dir" --text "The apple is green. What color is the apple?" --k 3 --dtype float32
  cli attention --model "$dir" --text "The apple is green. What color is the apple?" --from color --to green --k 3
done
# Random weights never refuse, so the filters that need real refusals are off here.
echo "== refusal direction and Patchscope (llama3-tiny)"
cli refusal --model tests/fixtures/llama3-tiny --n-train 8 --n-val 4 --n-test 4 --max-new-tokens 8 \
  --steering-threshold none --kl-threshold none --prune-layers 0
cli patchscope --model tests/fixtures/llama3-tiny --source "Apple was founded by Steve Jobs" --source-token Apple --max-new-tokens 5
