# One image for the operator and the server: `dhcp-failover operator` or `dhcp-failover server --config …`.
# Node 22 runs the TypeScript sources directly (type stripping), so there is no compile stage;
# the first stage only installs production dependencies.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency (a Node binary for dev machines) is not needed: the base image has Node 22.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# render -f reads the CRD schemas (defaults, pruning) to print what the operator would apply.
COPY crds ./crds
# Non-root; binding UDP 67 needs CAP_NET_BIND_SERVICE, which the pod spec grants (and nothing else).
USER node
EXPOSE 67/udp 647/tcp 8067/tcp
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ADMIN_PORT || 8067) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "/app/src/cli/main.ts"]
CMD ["server", "--config", "/etc/dhcp-failover/config.yaml"]
