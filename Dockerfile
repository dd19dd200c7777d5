# logrouter: one static binary on a distroless base (no shell, no package
# manager), running as an unprivileged user. The embedded configuration and
# starter rules make `docker run` work with no file at all:
#
#   docker build -t logrouter .
#   docker run --rm -p 8088:8088 -p 5514:5514/udp -p 5514:5514 -p 8686:8686 logrouter
#
# On Kubernetes, see deploy/kubernetes/ and docs/kubernetes.md (the config,
# rules and secrets are mounted; queues live on a persistent volume).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible paths, no debug tables.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/router ./cmd/router

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/router /router
# Queues, quarantine and archive default to ./data: the nonroot user's home
# is writable (on Kubernetes a volume holds them instead).
WORKDIR /home/nonroot
# nonroot, numeric so that runAsNonRoot can verify it (a "#" after an
# instruction would be part of its argument, not a comment).
USER 65532:65532
EXPOSE 8088/tcp 5514/udp 5514/tcp 6514/tcp 8686/tcp
ENTRYPOINT ["/router"]
CMD ["run"]
