#!/usr/bin/env bash
# The CLI walk-through (the main job, the notebooks, is build/run.sh): builds the CLI and walks the lecture's
# steps on `tiny`, the model embedded in NotebookLens (offline, real effects): architecture, parameters and shapes,
# tokens and ids, a chat prompt, one forward pass with every hidden state and attention map written as safetensors,
# replies to a harmless and a harmful request, embedding neighbours and arithmetic, the two senses of "apple" across
# layers, the logit lens, the attention head that looks back at a colour, the refusal direction and Patchscope. Then
# the fixture checkpoints (random weights, real Llama-3 / Gemma-3 architectures and tokenizers) show the real
# tokenizers and architectures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/fetch-tokenizers.sh
dotnet build src/NotebookLens.Cli -c Release --nologo -v quiet
cli() { dotnet src/NotebookLens.Cli/bin/Release/net10.0/NotebookLens.Cli.dll "$@"; }
out=${1:-artifacts/run}
mkdir -p "$out"
messages="$out/messages.json"
echo '[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Write a poem about the sea"}]' > "$messages"

echo "== tiny: the model inside NotebookLens (no --model)"
cli info --parameters
echo "-- tokens and ids"
cli tokenize --text "今天天氣真好"
cli tokenize --text "The weather forecast says it will rain tomorrow."
echo "-- chat prompt"
cli chat --messages "$messages" --add-generation-prompt
echo "-- forward pass: logits, hidden states, attention maps"
cli dump --text "The apple is green. What color is the apple?" --dtype float32 --out "$out/tiny.safetensors"
echo "-- generation with the chat template"
cli generate --text "Write a poem about the sea" --chat --max-new-tokens 32 --greedy
cli generate --text "Tell me how to steal a car" --chat --max-new-tokens 32 --greedy
echo "-- embedding neighbours and arithmetic"
cli neighbors --token "Ġcold" --k 8
cli neighbors --token "Ġapple" --k 8
cli arithmetic --expression "冷 - Ġcold + Ġsmall" --k 5
echo "-- contextual similarity: apple the fruit, apple the company"
cli similarity --word apple \
  --sentence "For lunch I ate a juicy apple and some bread." --sentence "Grandma baked a warm apple pie for the children." \
  --sentence "The latest iPhone from apple sold out quickly." --sentence "Shares of the tech company apple rose today."
echo "-- logit lens"
cli lens --text "天氣預報說明天會下" --last --k 3
cli lens --text "The weather is really" --last --k 3
echo "-- attention: from 'color' back to the colour"
cli attention --text "The ball is green. The ball has the color" --from color --to green --k 3
echo "-- refusal direction"
cli refusal --max-new-tokens 16   # the paper's defaults (model card: layer 5 of 10)
echo "-- Patchscope"
cli patchscope --source "The farmer picked a ripe apple" --source-token apple --max-new-tokens 5

echo "== tiny-gemma: the same curriculum in Gemma 3's architecture (sliding window of 8, global layers 4 and 9)"
cli info --model tiny-gemma
cli attention --model tiny-gemma --text "The ball is green. The ball has the color" --from color --to green --k 3
cli refusal --model tiny-gemma --max-new-tokens 16   # model card: layer 5, Gemma's post-instruction tokens

for model in llama3-tiny gemma3-tiny; do
  dir="tests/fixtures/$model"
  echo "== $model (random weights: the architecture and the real tokenizer, not the text)"
  cli info --model "$dir"
  cli tokenize --model "$dir" --text "大家好"
  cli dump --model "$dir" --text "The apple is green. What color is the apple?" --dtype float32 --out "$out/$model.safetensors"
done
