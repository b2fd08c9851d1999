# syntax=docker/dockerfile:1
# seamwatch as a container image. Not built or run in this project's CI (no Docker engine or
# registry there); kept small and conventional. In development Node 24 comes from the npm
# `node` devDependency; here it is the official node:24 image, and dev dependencies (that
# `node` package included) are left out.
#   docker build -t seamwatch:0.1.0 .
#   docker run --rm -p 9470:9470 -v "$PWD/config:/etc/seamwatch:ro" seamwatch:0.1.0 run --config /etc/seamwatch/seamwatch.yaml

# Debian (glibc), not Alpine: chdb and sharp ship prebuilt binaries for glibc only.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked; no install scripts (none is needed: chdb's
# and sharp's native parts come as prebuilt per-platform packages).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# TypeScript runs by type stripping: the sources are the program, nothing is compiled.
COPY src ./src
COPY config ./config
# The embedded store's data (mount a volume here) and a non-root user that owns it.
RUN groupadd --system --gid 10001 seamwatch \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/seamwatch --shell /usr/sbin/nologin seamwatch \
  && mkdir -p /var/lib/seamwatch /etc/seamwatch \
  && chown seamwatch:seamwatch /var/lib/seamwatch
USER 10001:10001
EXPOSE 9470 9471
# node itself is PID 1: SIGTERM reaches seamwatch, which drains and commits before it exits.
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["run", "--config", "/etc/seamwatch/seamwatch.yaml"]
