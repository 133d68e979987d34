# latchkey in a container: `docker build -t latchkey . && docker run -p 8080:8080 latchkey`
#
# Build stage: the official Rust image compiles a release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, in their own layer: only the manifests and stub sources, so
# this layer (every crate but latchkey itself) is rebuilt when Cargo.toml or
# Cargo.lock changes and not when src/ does. Cargo.toml names bench and test
# targets; empty stubs stand in for them so the manifest parses (they are not
# built). A new [[bench]] or [[test]] in Cargo.toml needs its stub here.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches tests/it \
 && echo 'fn main() {}' > src/main.rs \
 && : > src/lib.rs \
 && : > benches/hot_paths.rs \
 && : > benches/jwt.rs \
 && : > benches/alloc_counts.rs \
 && : > benches/realms.rs \
 && : > tests/it/main.rs \
 && cargo build --release --locked --bin latchkey \
 && rm -rf src target/release/latchkey* target/release/liblatchkey* \
           target/release/deps/latchkey-* target/release/deps/liblatchkey-* \
           target/release/.fingerprint/latchkey-*
# The real sources: only latchkey compiles here. The stub's artifacts and
# fingerprints are gone and the sources touched, so cargo cannot take the stub
# for up to date whatever mtimes COPY gives the files.
COPY src ./src
RUN find src -type f -exec touch {} + \
 && cargo build --release --locked --bin latchkey \
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
# No curl in this image: the binary probes itself (GET /ready on LATCHKEY_BIND).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/latchkey", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
