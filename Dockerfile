# latchkey in a container: `docker build -t latchkey . && docker run -p 8080:8080 latchkey`
#
# Build stage: the official Rust image compiles a release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
# Manifests first, so dependency downloads are cached across source changes.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo.toml names the bench and test targets; their sources must exist to parse it.
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin latchkey \
 && mkdir -p /data-template

# Run stage: distroless (glibc, no shell, no package manager), as the non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
# An empty /data owned by the nonroot user (uid 65532), so the volume is writable.
COPY --from=build --chown=65532:65532 /data-template /data
ENV LATCHKEY_BIND=0.0.0.0:8080 \
    LATCHKEY_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# No curl in this image: the binary probes itself (GET /health on LATCHKEY_BIND).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/latchkey", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
