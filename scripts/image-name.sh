#!/usr/bin/env bash
# Prints the default image name: what scripts/build-image.sh tags, what the chart's image.repository and
# appVersion name, and the operator's default SERVER_IMAGE (src/operator/render/types.ts); a test keeps
# the four equal. `localhost/` says it is a local build: push it to your registry and set image.repository.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)"
echo "localhost/dhcp-failover:${version:?no version in package.json}"
