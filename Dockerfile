# The image of the loader, transform and migrate services (see docker-compose.yml).
# Two stages: `build` compiles the TypeScript with the dev tools; `runtime` holds only what runs.
# No `# syntax=` line: BuildKit would pull that frontend from Docker Hub (unreachable on air-gapped sites and
# mirrors); the built-in frontend runs `RUN --mount=type=cache` as it is. Only the base image is pulled.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build is the next step.
# The npm cache lives in a build cache mount, never in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY loader ./loader
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No dev tools at run time. --omit=optional leaves out the embedded PostgreSQL binaries (~60 MB):
# in a container the database always comes from the environment (PGHOST …), never the embedded server.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY sql ./sql
# the official node image's unprivileged user; the app writes nothing inside the image
USER node
# each service of docker-compose.yml sets its own command; this one says what the image holds
CMD ["node", "dist/loader/cli/migrate.js"]
