#!/bin/bash
# A local silo's resident memory over five `sair pool match` calls with a 40-megapixel photo (issue 18, item 3).
# usage: bash bench/silo-memory.sh [REPO]   — REPO: a built checkout (default: this one; another commit's worktree to
# compare). The photos come from `bench photo-memory --photos-to`; the silo runs in a SAIR_HOME of its own on ports
# of its own, and is stopped at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "${1:-$here}" && pwd)
photos=$(mktemp -d)
dotnet run -c Release --project "$here/bench/Sair.Bench" -- photo-memory --photos-to "$photos" > /dev/null
export SAIR_HOME=$(mktemp -d) SAIR_SILO_PORT=22311 SAIR_GATEWAY_PORT=31200 SAIR_HEALTH_PORT=31280
sair() { dotnet "$repo/src/Sair.Client/bin/Debug/net10.0/sair.dll" "$@" > /dev/null 2>&1; }
trap 'sair silo stop || true; rm -rf "$SAIR_HOME" "$photos"' EXIT
sair silo start
pid=$(python3 -c "import json, sys; s = json.load(open(sys.argv[1])); print(s.get('ProcessId') or s.get('processId'))" "$SAIR_HOME/silo.json")
until curl -s "http://127.0.0.1:$SAIR_HEALTH_PORT/readyz" | grep -q '^ready'; do sleep 0.5; done
rss() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$pid/status"; }
sair pool enroll fam ada "$photos/face-1mp.jpg"
echo "commit $(git -C "$repo" rev-parse --short HEAD); $(lscpu | grep 'Model name' | sed 's/  */ /g')"
line="silo RSS, ready and one 1 MP face enrolled: $(rss) MB; after each of five matches of a 40 MP face:"
for i in 1 2 3 4 5; do sair pool match fam "$photos/face.jpg"; line="$line $(rss)"; done
sair pool match fam "$photos/no-face.jpg" || true   # refused: no face
echo "$line MB; after a 40 MP photo without a face: $(rss) MB; peak (VmHWM) $(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$pid/status") MB"
