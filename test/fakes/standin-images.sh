#!/usr/bin/env bash
# Local stand-ins for the two images no registry can give us here, so tests build the real Dockerfile
# unchanged and run the rendered pods (test/pods/):
#   NODE_IMAGE   (the Dockerfile's FROM)   Debian bookworm minbase + Node 22 from the npm package `node`
#                                           + npm 10 from the npm registry + the `node` user (uid 1000)
#   REDIS_IMAGE  (the operator's default)  Debian bookworm minbase + Debian's redis-server
# Built with debootstrap once and cached: the podman images themselves, and the minbase tarball under
# $STANDIN_CACHE (default /var/tmp/dhcp-failover-standins) for the next build. Idempotent.
#   test/fakes/standin-images.sh NODE_IMAGE REDIS_IMAGE
# Environment: PODMAN_RUNTIME (default runc: crun fails in this VM).
set -euo pipefail
cd "$(dirname "$0")/../.."
node_image="${1:?usage: standin-images.sh NODE_IMAGE REDIS_IMAGE}"
redis_image="${2:?usage: standin-images.sh NODE_IMAGE REDIS_IMAGE}"
cache="${STANDIN_CACHE:-/var/tmp/dhcp-failover-standins}"
podman=(podman --runtime "${PODMAN_RUNTIME:-runc}")
mkdir -p "$cache"

have() { "${podman[@]}" image exists "$1"; }
if have "$node_image" && have "$redis_image"; then echo "standin-images: both present" >&2; exit 0; fi

work="$(mktemp -d "$cache/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
base="$cache/bookworm-minbase.tar"
if [ ! -s "$base" ]; then
  echo "standin-images: debootstrap --variant=minbase bookworm (about a minute)" >&2
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$work/rootfs"
fi
unpack() { mkdir -p "$1" && tar -C "$1" -xf "$base"; }
import() { # DIR IMAGE CHANGES...
  local dir="$1" image="$2"; shift 2
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$dir" -c . | "${podman[@]}" import "${changes[@]}" - "$image" >/dev/null
  echo "standin-images: $image" >&2
}

if ! have "$node_image"; then
  root="$work/node"; unpack "$root"
  install -m 0755 "$(readlink -f node_modules/node/bin/node)" "$root/usr/local/bin/node"
  (cd "$work" && npm pack --silent npm@10 >/dev/null)
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work"/npm-10*.tgz
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The official image's user.
  echo 'node:x:1000:' >>"$root/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
  install -d -o 1000 -g 1000 "$root/home/node"
  import "$root" "$node_image" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["node"]'
fi

if ! have "$redis_image"; then
  root="$work/redis"; unpack "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null' \
    || { echo "standin-images: apt-get in the redis rootfs failed" >&2; exit 1; }
  rm -f "$root/usr/sbin/policy-rc.d"; rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb
  : >"$root/etc/resolv.conf"
  # The official image runs Redis as uid 999; the rendered pod says so explicitly (runAsUser: 999).
  import "$root" "$redis_image" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["redis-server"]'
fi
