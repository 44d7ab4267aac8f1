#!/usr/bin/env bash
# Installs Azurite (pinned by package-lock.json) into tools/azurite/node_modules for the Azure storage tests.
# Install scripts are not run: Azurite is plain JavaScript and needs none.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  echo "npm not found: install Node.js 20+ (apt-get install nodejs npm) and run bash setup.sh again" >&2
  exit 1
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "azurite $(node -p "require('./node_modules/azurite/package.json').version") installed in tools/azurite/node_modules"
