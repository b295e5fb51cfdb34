#!/usr/bin/env bash
# Jupyter with the .NET Interactive kernel, so `jupyter nbconvert --execute` (and Jupyter itself) runs the notebooks:
# Debian's jupyter-nbconvert and jupyter-client (apt-get, only when missing; /usr/bin/jupyter, not a pyenv Python), and
# the `.net-csharp` kernelspec from the dotnet-interactive pinned in .config/dotnet-tools.json.
# `dotnet-interactive jupyter install` writes argv ["dotnet", "interactive", ...], which needs a global install; the
# kernel is started in the notebook's folder, where `dotnet tool run` may not find our tool manifest, so the kernelspec
# starts the pinned tool's own dll by its full path instead (no global install, no PATH change).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/jupyter-nbconvert ] || [ ! -x /usr/bin/jupyter-kernelspec ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing jupyter-nbconvert jupyter-client (apt-get)" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jupyter-nbconvert jupyter-client >/dev/null
fi

dotnet tool restore >/dev/null
version=$(sed -n '/"microsoft.dotnet-interactive"/,/}/s/.*"version": *"\([^"]*\)".*/\1/p' .config/dotnet-tools.json)
app=$(ls "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/microsoft.dotnet-interactive/"$version"/tools/net*/any/Microsoft.DotNet.Interactive.App.dll | tail -1)
kernel=$(/usr/bin/jupyter kernelspec list --json 2>/dev/null | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["kernelspecs"].get(".net-csharp", {}).get("resource_dir", ""))')
if [ -n "$kernel" ] && grep -qF "\"$app\"" "$kernel/kernel.json"; then exit 0; fi

specs=$(mktemp -d)
dotnet "$app" jupyter install --path "$specs" >/dev/null
/usr/bin/python3 - "$specs/.net-csharp/kernel.json" "$app" <<'EOF'
import json, sys
path, app = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
assert spec["argv"][:2] == ["dotnet", "interactive"], spec["argv"]
spec["argv"][:2] = ["dotnet", app]
json.dump(spec, open(path, "w"), indent=2)
EOF
/usr/bin/jupyter kernelspec install --user --name .net-csharp "$specs/.net-csharp" >/dev/null 2>&1
rm -rf "$specs"
echo "registered the .net-csharp Jupyter kernel: $(/usr/bin/jupyter kernelspec list 2>/dev/null | grep -F .net-csharp)" >&2
