#!/usr/bin/env bash
# Installs what SairGrid needs beyond the .NET SDK: NuGet packages (restore) and, once they are part of the project,
# the npm face models and Azurite, and Debian's Chromium for the gallery's browser test. Safe to run again. Needs only
# the package registries (NuGet, npm, apt).
set -euo pipefail
cd "$(dirname "$0")"

echo "== restoring NuGet packages"
dotnet restore SairGrid.sln --verbosity quiet

# tests/Sair.Client.Tests opens the HTML gallery in this browser (via Playwright, which never downloads one).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt)"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup.sh: /usr/bin/chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root (or install sudo)" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: /usr/bin/chromium is missing and there is no apt-get to install it with: install Chromium at /usr/bin/chromium" >&2
    exit 1
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

for step in models/install.sh tools/azurite/install.sh; do
  if [ -f "$step" ]; then
    echo "== $step"
    bash "$step"
  fi
done
echo "== setup done"
