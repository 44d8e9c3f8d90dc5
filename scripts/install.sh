#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: Debian packages used by the
# server (redis) and by the tests (real DHCP clients, relay, reference servers), then npm packages
# (which include the Node 22 runtime from the npm package `node`). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  redis-server            # lease store
  iproute2 iptables procps # network namespaces, link cuts, process control in tests
  curl                    # admin endpoints inside test namespaces (lab.httpGet)
  udhcpc isc-dhcp-client  # real DHCP clients for end-to-end tests
  isc-dhcp-relay          # real relay agent (giaddr) for end-to-end tests
  isc-dhcp-server         # reference server for benchmarks, failover partner for interop
  kea-dhcp4-server kea-admin # reference server and perfdhcp
  prometheus              # promtool rule tests and the alerting end-to-end test
  faketime                # a server with a skewed clock in failover tests
  podman runc debootstrap # the image build and the rendered pods run for real (test/pods/, test/integration/pods.test.ts)
  etcd-server openssl xz-utils # real kube-apiserver tests (test/fakes/kube-control-plane.ts): etcd, the PKI, unpacking ../shared/k8s/kube-apiserver.xz
)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's maintainer scripts may start daemons on machines with an init system; the project runs its own.
for svc in redis-server isc-dhcp-server kea-dhcp4-server prometheus prometheus-node-exporter etcd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node_modules/.bin/node --version
