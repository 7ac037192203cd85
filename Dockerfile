# logshipd container image: a static Go binary on distroless, non-root.
# Build and run: docs/deployment.md. Checked by deploy_test/ (BuildKit parser).
#
#   docker build \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) \
#     --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     -t logshipd:$(git describe --tags --always --dirty) .
#
# Base images are pinned by tag and by the digest of their multi-arch index,
# so a rebuild of the same commit starts from the same bytes. To move to a
# new base, resolve the new digest (`docker buildx imagetools inspect IMAGE`
# or `crane digest IMAGE`) and update tag and digest together.
#   golang:1.26.8-bookworm                      (the toolchain go.mod names)
#   gcr.io/distroless/static-debian12:nonroot   (CA certificates, tzdata,
#                                                /etc/passwd with nonroot;
#                                                no shell, no package manager)

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:dc9ad6c05acc7a88e5b71bde60a5fe3bd4b9f0db209011711b464107438a8107 AS build
WORKDIR /src
# Never download another toolchain; never consult the VCS for stamping (the
# version comes from the build arguments, so the same inputs give the same
# binary with or without .git in the context).
ENV GOTOOLCHAIN=local \
    GOFLAGS=-mod=readonly \
    CGO_ENABLED=0
# Modules first, so that this layer stays cached while only sources change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
# The context holds only what the build needs (.dockerignore is an allow-list).
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG COMMIT=none
# Reproducible: static (CGO off), -trimpath (no local paths), -buildvcs=false
# (no VCS state), an empty build id, and version/commit stamped from the
# arguments only.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
        -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/logshipd ./cmd/logshipd \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=dev
ARG COMMIT=none
LABEL org.opencontainers.image.title="logshipd" \
      org.opencontainers.image.description="Log shipping and normalization daemon (ECS FireLens log router)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/logshipd /logshipd
# The FireLens router configuration (infra/logshipd-firelens.yaml): every
# deployment value comes from the task definition's environment and secrets.
COPY infra/logshipd-firelens.yaml /etc/logshipd/firelens.yaml
# data_dir (checkpoints, dead letters, disk buffers), writable by nonroot.
COPY --from=build --chown=65532:65532 /out/data /var/lib/logshipd
# nonroot (65532:65532) from the distroless base.
USER 65532:65532
# 24224: Fluent Forward over TCP (FireLens also uses the unix socket
# /var/run/fluent.sock, bind-mounted by ECS); 9464: /metrics, /healthz,
# /readyz. The FireLens TCP health port 8877 listens on 127.0.0.1 only and is
# not exposed.
EXPOSE 24224/tcp 9464/tcp
# Exec form: the image has no shell. `logshipd health` GETs /healthz on the
# metrics listener and exits 0 on HTTP 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/logshipd", "health", "--addr", "127.0.0.1:9464"]
ENTRYPOINT ["/logshipd"]
CMD ["run", "-c", "/etc/logshipd/firelens.yaml"]
