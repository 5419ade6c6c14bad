# modelgate: one image, several instances behind a reverse proxy (docs/deploy.md).
#
#   docker build -t modelgate .
#   docker run -p 8080:8080 -v modelgate-data:/data modelgate
#
# Stage 1 builds exactly as CI does (.ci/run): `npm ci`, then `npm run build` (tsc → dist/, vite → web/dist),
# then drops the dev dependencies. Stage 2 holds only what runs: dist/, web/dist and production node_modules.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/package.json
RUN npm ci --no-fund --no-audit
COPY tsconfig.json tsconfig.build.json openapi.json ./
COPY src src
COPY sdk sdk
COPY web web
# vite bundles React's production build only with NODE_ENV=production.
RUN NODE_ENV=production npm run build \
  && npm prune --omit=dev --no-fund --no-audit

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  DATA_DIR=/data
WORKDIR /app
# The node image's unprivileged user (uid 1000); the data directory is the only place it writes.
RUN mkdir -p /data && chown node:node /data
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/sdk/package.json ./sdk/package.json
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/web/dist ./web/dist
USER node
VOLUME ["/data"]
EXPOSE 8080
# /health: the process answers (liveness). The proxy's checks use /ready (the database answers too).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations run on start (several instances starting at once are safe: docs/deploy.md, "Migrations");
# `docker compose run --rm modelgate-a node dist/db/migrate.js` applies them as a one-off step.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=25", "dist/main.js"]
