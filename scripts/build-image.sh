#!/usr/bin/env bash
# Builds the one image (operator and server) from the Dockerfile with whichever engine is present:
# docker (when its daemon answers), podman, or buildah. Tags it with the name the chart and the operator
# use by default (scripts/image-name.sh), unless --tag says otherwise; --push sends it to that name's registry.
#
#   scripts/build-image.sh                                   # → localhost/dhcp-failover:<version>
#   scripts/build-image.sh --tag registry.example.net/net/dhcp-failover:0.1.0 --push
#   scripts/build-image.sh --ca-file /etc/ssl/certs/ca-certificates.crt   # npm behind a TLS-inspecting proxy
#
# Options:
#   --tag NAME        image name (default: scripts/image-name.sh)
#   --push            push NAME after the build
#   --engine E        docker | podman | buildah (default: the first that works, in that order)
#   --npmrc FILE      an npmrc for `npm ci` (registry mirror, auth); a build secret, never in a layer
#   --ca-file FILE    a CA bundle npm must trust; a build secret, named by a generated npmrc `cafile`
#   -- ARGS...        passed to the engine's build command as they are (e.g. --ulimit nofile=65536:65536)
# Environment: PODMAN_RUNTIME (e.g. runc) is passed to podman as --runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
tag="" push=false engine="" npmrc="" ca_file=""
extra=()
while (($#)); do
  case "$1" in
    --tag) tag="${2:?--tag needs a name}"; shift 2 ;;
    --push) push=true; shift ;;
    --engine) engine="${2:?--engine needs docker, podman or buildah}"; shift 2 ;;
    --npmrc) npmrc="${2:?--npmrc needs a file}"; shift 2 ;;
    --ca-file) ca_file="${2:?--ca-file needs a file}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "build-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$tag" ] || tag="$(scripts/image-name.sh)"

works() {
  case "$1" in
    docker) command -v docker >/dev/null && docker info >/dev/null 2>&1 ;;
    podman|buildah) command -v "$1" >/dev/null ;;
    *) return 1 ;;
  esac
}
if [ -z "$engine" ]; then
  for e in docker podman buildah; do if works "$e"; then engine="$e"; break; fi; done
  [ -n "$engine" ] || { echo "build-image.sh: no container engine found (docker with a running daemon, podman or buildah)" >&2; exit 1; }
elif ! works "$engine"; then
  echo "build-image.sh: $engine is not usable here" >&2; exit 1
fi

secrets=()
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
if [ -n "$ca_file" ]; then
  [ -r "$ca_file" ] || { echo "build-image.sh: cannot read $ca_file" >&2; exit 1; }
  secrets+=(--secret "id=npm-ca,src=$ca_file")
  if [ -z "$npmrc" ]; then printf 'cafile=/run/secrets/npm-ca\n' > "$tmp/npmrc"; npmrc="$tmp/npmrc"; fi
fi
[ -z "$npmrc" ] || secrets+=(--secret "id=npmrc,src=$npmrc")

cmd=("$engine")
case "$engine" in
  podman) [ -z "${PODMAN_RUNTIME:-}" ] || cmd+=(--runtime "$PODMAN_RUNTIME"); cmd+=(build --format oci) ;;
  buildah) cmd+=(build --format oci) ;;
  docker) cmd+=(build) ;;
esac
echo "build-image.sh: $engine → $tag" >&2
start=$SECONDS
"${cmd[@]}" "${secrets[@]}" "${extra[@]}" -t "$tag" -f Dockerfile .
echo "build-image.sh: built $tag in $((SECONDS - start)) s" >&2
if $push; then
  case "$engine" in
    podman) "${cmd[0]}" ${PODMAN_RUNTIME:+--runtime "$PODMAN_RUNTIME"} push "$tag" ;;
    *) "$engine" push "$tag" ;;
  esac
fi
