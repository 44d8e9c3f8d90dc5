#!/usr/bin/env bash
# Runs every test: typecheck, unit tests, integration tests (network namespaces; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/.bin/node
echo "== typecheck"
node_modules/.bin/tsc -p tsconfig.json --noEmit
echo "== tests"
# Files run one at a time: integration tests own network namespaces and ports.
exec "$NODE" --disable-warning=ExperimentalWarning --test --test-concurrency=1 --test-timeout=600000 \
  --test-reporter=spec "${@:-test/**/*.test.ts}"
