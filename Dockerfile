# syntax=docker/dockerfile:1
# vigil: one static binary on an empty base, run as a non-root user, with
# the CA bundle (probes and remote write speak TLS) and time zones (reviews
# bucket in each team's zone; the binary embeds time/tzdata too).
#   docker build -t vigil .
#   docker run -v vigil-data:/data -p 8080:8080 vigil serve -c /etc/vigil/vigil.yaml

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/vigil ./cmd/vigil \
 && mkdir -p /out/data

FROM debian:bookworm-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/vigil /usr/local/bin/vigil
COPY --from=build --chown=65532:65532 /out/data /data
ENV VIGIL_DATA_DIR=/data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["serve", "-c", "/etc/vigil/vigil.yaml", "--listen", "0.0.0.0:8080"]
