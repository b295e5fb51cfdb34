#!/usr/bin/env bash
# Packs the notebook extension (NotebookLens.Interactive) and the projects it depends on (the views, the core and
# its chat-template engine; each becomes a package the next one depends on) into artifacts/feed, a local NuGet feed. A notebook then loads the extension with
#   #i "nuget: /absolute/path/to/artifacts/feed"
#   #r "nuget: NotebookLens.Interactive, 0.1.0-dev"
# Extra arguments go to dotnet pack: on a GPU machine, -p:NotebookLensTorch=cuda makes the core depend on libtorch's
# CUDA build (TorchSharp-cuda-linux) instead of the CPU one.
# Builds in artifacts/pack (its own bin and obj), so packing never rewrites the outputs a test run is using.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.1.0-dev
feed=artifacts/feed
mkdir -p "$feed"
# Test assemblies that run notebooks pack at the same time (dotnet test runs them in parallel): one pack at a time,
# and each package moved into the feed whole, so a notebook restoring from the feed meanwhile never misses one.
exec 9>artifacts/pack.lock
flock 9
staging=$(mktemp -d artifacts/pack-staging.XXXXXX)
trap 'rm -rf "$staging"' EXIT
for project in src/NotebookLens.Templates src/NotebookLens src/NotebookLens.Views src/NotebookLens.Interactive; do
  dotnet pack "$project" -c Release -o "$staging" --artifacts-path artifacts/pack -p:Version="$version" --nologo -v quiet "$@"
done
for old in "$feed"/NotebookLens.*.nupkg; do
  if [ -e "$old" ] && [ ! -e "$staging/$(basename "$old")" ]; then rm -f "$old"; fi
done
mv -f "$staging"/*.nupkg "$feed"/
# The version never changes, and hosts cache by package id and version: the NuGet package folder keeps the first
# build it extracted, and .NET Interactive's restore (F#'s dependency manager) keeps its resolved paths in
# ~/.packagemanagement/nuget/Cache, so a notebook would silently load an older build. Drop both.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/notebooklens*/"$version"
# (grep finds nothing when no notebook restored since the last pack: not an error.)
{ grep -rlis notebooklens "$HOME/.packagemanagement/nuget/Cache" 2>/dev/null || true; } | xargs -r rm -f
ls "$feed"
