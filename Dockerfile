# logshipd container image: a static binary on distroless, running as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#                --build-arg COMMIT=$(git rev-parse --short HEAD) -t logshipd .
#
# Base images are pinned by tag here. CI must pin them by digest as well
# (golang:1.26.8-bookworm@sha256:<digest>,
#  gcr.io/distroless/static-debian12:nonroot@sha256:<digest>) so that a
# rebuild of the same commit uses the same bases.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local
# Modules first, so that this layer is cached while only sources change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
RUN CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/logshipd ./cmd/logshipd

# static-debian12 carries CA certificates and tzdata (normalize.timezone),
# no shell and no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/logshipd /logshipd
COPY examples/logshipd.yaml /etc/logshipd/logshipd.yaml
# nonroot (65532:65532)
USER 65532:65532
# 24224: Fluent Forward (ECS FireLens); 9464: Prometheus metrics. Both are
# served by the planned `run` daemon.
EXPOSE 24224 9464
# HEALTHCHECK: none yet. A later issue adds a `logshipd health` subcommand;
# then add e.g.  HEALTHCHECK CMD ["/logshipd", "health"]
# (exec form: the image has no shell).
ENTRYPOINT ["/logshipd"]
# `run` is the daemon, still being built. Until it exists, override the
# command, e.g. `docker run --rm -i logshipd normalize < app.log`.
CMD ["run", "-c", "/etc/logshipd/logshipd.yaml"]
