# One image for the operator and the server: `dhcp-failover operator` or `dhcp-failover server --config …`.
# Build it with scripts/build-image.sh (docker, podman or buildah; docs/install.md).
# Node 22 runs the TypeScript sources directly (type stripping), so there is no compile stage;
# the first stage only installs production dependencies.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency (a Node binary for dev machines) is not needed: the base image has Node 22.
# A registry behind a private CA or a mirror: pass an npmrc (and its CA file) as build secrets; they are
# mounted for this step only and never stored in a layer (scripts/build-image.sh --npmrc, --ca-file).
# Type declarations, source maps and docs are not needed to run: about 47 MB less.
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=secret,id=npm-ca,target=/run/secrets/npm-ca \
    npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# `dhcp-failover …` works in `kubectl exec` and `podman run --entrypoint dhcp-failover`.
ENV PATH=/app/bin:$PATH
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# render -f reads the CRD schemas (defaults, pruning) to print what the operator would apply.
COPY crds ./crds
# The image's user is `node` (uid 1000), which is how the operator runs (the chart sets runAsUser 1000).
# The server pods the operator renders run as uid 0 inside the container with every capability dropped
# but NET_BIND_SERVICE (UDP 67, TCP 647): Kubernetes grants no ambient capabilities to a non-root user and
# the node binary has no file capabilities (src/operator/render/server-statefulset.ts).
USER node
# Server: DHCP 67/udp, failover 647/tcp, admin and metrics 8067/tcp (host network in the rendered pods).
# Operator: health and metrics 8080/tcp.
EXPOSE 67/udp 647/tcp 8067/tcp 8080/tcp
# No HEALTHCHECK: Kubernetes ignores it (the pod specs carry readiness and liveness probes on /readyz and
# /healthz), the OCI image format drops it, and the two roles answer on different ports.
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "/app/src/cli/main.ts"]
CMD ["server", "--config", "/etc/dhcp-failover/config.yaml"]
