#!/usr/bin/env bash
# Container smoke test (issue 14): builds the project's own Dockerfile with podman
# and runs the image the way a user does. Run by .ci/run; by hand, as root:
#
#   bash scripts/container-smoke.sh
#
# Setup (idempotent, each step skipped when already done):
# - Debian packages podman, buildah, runc, debootstrap (and curl), when missing;
# - a containers.conf (CONTAINERS_CONF) for this kind of machine: runc, cgroupfs,
#   file events, bounded ulimits (crun fails here on rlimits and hybrid cgroups);
# - local stand-ins for the Dockerfile's two base images, kept between runs
#   (labelled latchkey.smoke.recipe): from one `debootstrap --variant=minbase
#   bookworm` root (with ca-certificates, gcc, libc6-dev), made once,
#   gcr.io/distroless/cc-debian12:nonroot (libc6 and libgcc-s1 files, nonroot
#   65532, /tmp, CA bundle) and localhost/latchkey-smoke:bookworm; on that,
#   rust:1-bookworm with the host's Rust toolchain (remade when `rustc -V`
#   changes), cargo on PATH, CARGO_HOME /root/.cargo, CARGO_NET_OFFLINE=true.
#   (Debian 12's rustc-web is 1.85; Cargo.lock's crates need 1.88.) Images of those
#   names that this script did not make are tagged over, in podman's storage only.
# The build is `podman build --pull=never --format docker --network none` of the
# Dockerfile as it is, with the host's cargo registry mounted at
# /root/.cargo/registry: no network. Its build stage is kept tagged as
# localhost/latchkey-smoke:build-cache, so an unchanged checkout rebuilds nothing.
#
# Checks: /ready within 10 s of `podman run`; /docs serves Swagger UI; the admin
# (Basic) creates a client, its client_credentials token is accepted by
# /api/v1/users/me; `podman healthcheck run` is healthy (no systemd here, so no
# periodic checks); the server runs as a non-root UID; `podman stop -t 10` exits 0
# and so does the server, after "store flushed"; a second container on the same
# volume still has the admin, the client and its secret (the old secret gets a
# token) and accepts the first container's token.
#
# It removes its containers, volume and image on exit, and prints the image size
# and the time from `podman run` to /ready. Not root and no passwordless sudo:
# it says so and exits 0 (skipped). Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

RECIPE=1 # bump when the base images' recipe changes, so cached ones are remade
BUILDER_IMAGE=docker.io/library/rust:1-bookworm
RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
BASE_IMAGE=localhost/latchkey-smoke:bookworm
IMAGE=localhost/latchkey-smoke:test
CACHE_IMAGE=localhost/latchkey-smoke:build-cache
MIRROR=${LATCHKEY_SMOKE_MIRROR:-http://deb.debian.org/debian}
STATE=${LATCHKEY_SMOKE_STATE:-/var/cache/latchkey-smoke}

say() { printf 'container-smoke: %s\n' "$*"; }
ok() { printf 'container-smoke: ok: %s\n' "$*"; }
fail() {
  printf 'container-smoke: FAIL: %s\n' "$*" >&2
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# --- root ---------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    exec sudo -n env "LATCHKEY_SMOKE_REGISTRY=${LATCHKEY_SMOKE_REGISTRY:-${CARGO_HOME:-$HOME/.cargo}/registry}" \
      "PATH=$PATH" bash "$0" "$@"
  fi
  say "SKIPPED: needs root (rootful podman); not root and no passwordless sudo"
  exit 0
fi
REGISTRY=${LATCHKEY_SMOKE_REGISTRY:-${CARGO_HOME:-$HOME/.cargo}/registry}

T_START=$(now)
WORK=$(mktemp -d /var/tmp/latchkey-smoke.XXXXXX)
LOG=$WORK/log
RUN_ID=$$
VOLUME=latchkey-smoke-$RUN_ID
C1=latchkey-smoke-$RUN_ID-1
C2=latchkey-smoke-$RUN_ID-2
PODMAN_READY=0

cleanup() {
  local rc=$?
  if [ "$PODMAN_READY" = 1 ]; then
    podman rm -f -t 0 "$C1" "$C2" >/dev/null 2>&1 || true
    podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
    if [ -s "$WORK/builder-ctr" ]; then buildah rm "$(cat "$WORK/builder-ctr")" >/dev/null 2>&1 || true; fi
  fi
  if [ "$rc" -ne 0 ] && [ -s "$LOG" ]; then
    echo "container-smoke: last lines of $LOG:" >&2
    tail -n 40 "$LOG" >&2
    cp "$LOG" "/var/tmp/latchkey-smoke-failed-$RUN_ID.log" 2>/dev/null &&
      echo "container-smoke: full log: /var/tmp/latchkey-smoke-failed-$RUN_ID.log" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a command with a time limit, its output going to the log.
quiet() {
  local limit=$1
  shift
  echo "+ $*" >>"$LOG"
  timeout --kill-after=10 "$limit" "$@" >>"$LOG" 2>&1
}

# --- packages -------------------------------------------------------------------
missing=()
for tool in podman buildah runc debootstrap curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quiet 600 apt-get update -qq -o DPkg::Lock::Timeout=300 || fail "apt-get update failed"
  quiet 900 apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
    "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
fi

# --- podman configuration -----------------------------------------------------------
mkdir -p "$STATE"
cat >"$STATE/containers.conf" <<'CONF'
# Written by latchkey's scripts/container-smoke.sh.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$STATE/containers.conf
# Every direct call is bounded too (quiet's timeout runs the binaries themselves).
PODMAN=$(command -v podman)
BUILDAH=$(command -v buildah)
podman() { timeout --kill-after=10 300 "$PODMAN" "$@"; }
buildah() { timeout --kill-after=10 300 "$BUILDAH" "$@"; }
quiet 60 podman info || fail "podman does not work here (podman info failed)"
PODMAN_READY=1

# Containers or volumes left by an earlier run that was killed (its PID is gone).
for kind in container volume; do
  if [ "$kind" = container ]; then
    list=$(podman ps -a --filter label=latchkey.smoke.pid --format '{{.Names}} {{index .Labels "latchkey.smoke.pid"}}' 2>/dev/null || true)
  else
    list=$(podman volume ls --filter label=latchkey.smoke.pid --format '{{.Name}} {{index .Labels "latchkey.smoke.pid"}}' 2>/dev/null || true)
  fi
  while read -r name pid; do
    [ -n "$name" ] || continue
    if ! kill -0 "$pid" 2>/dev/null; then
      if [ "$kind" = container ]; then
        podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
      else
        podman volume rm -f "$name" >/dev/null 2>&1 || true
      fi
    fi
  done <<<"$list"
done

# --- base images ------------------------------------------------------------------------
# The builder's Rust is the host's toolchain (what `rustc` here runs): the real
# rust:1-bookworm is rustup's stable on bookworm, and Debian 12's own rustc-web
# (1.85) is older than Cargo.lock's crates need (encoding_rs and icu_* ask 1.88).
command -v rustc >/dev/null 2>&1 || fail "no rustc on the host: its toolchain goes into the builder image"
SYSROOT=$(rustc --print sysroot)
RUST_VERSION=$(rustc -V)
[ -x "$SYSROOT/bin/cargo" ] || fail "no cargo in $SYSROOT/bin (the toolchain for the builder image)"

label() { podman image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }
ours() { [ "$(label "$1" latchkey.smoke.recipe)" = "$RECIPE" ]; }

BASE_MADE=0
if ours "$BASE_IMAGE" && ours "$RUNTIME_IMAGE"; then
  say "base images: cached ($BASE_IMAGE, $RUNTIME_IMAGE)"
else
  BASE_MADE=1
  t=$(now)
  say "base images: debootstrap bookworm from $MIRROR (once; about a minute)"
  root=$WORK/rootfs
  quiet 900 debootstrap --variant=minbase --include=ca-certificates,gcc,libc6-dev \
    bookworm "$root" "$MIRROR" || fail "debootstrap failed"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

  # Debian 12 with a C toolchain (the linker Rust needs); the builder adds Rust.
  tar -C "$root" -cf - . | quiet 600 podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL latchkey.smoke.recipe=$RECIPE" \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" || fail "podman import of the bookworm root failed"

  # The runtime: what distroless/cc has that a Rust binary needs.
  rt=$WORK/runtime
  mkdir -p "$rt"/etc/ssl/certs "$rt"/tmp "$rt"/home/nonroot "$rt"/root "$rt"/usr/local/bin
  for link in bin lib lib64 sbin; do
    if [ -L "$root/$link" ]; then cp -a "$root/$link" "$rt/$link"; fi
  done
  chmod 1777 "$rt/tmp"
  chmod 700 "$rt/root" "$rt/home/nonroot"
  chown 65532:65532 "$rt/home/nonroot"
  for pkg in libc6 libgcc-s1; do
    dpkg-query --admindir="$root/var/lib/dpkg" -L "$pkg" >>"$WORK/files" ||
      fail "no $pkg in the debootstrap root"
  done
  while read -r path; do
    [ -n "$path" ] || continue
    src=$root$path
    if [ -d "$src" ] || { [ ! -f "$src" ] && [ ! -L "$src" ]; }; then continue; fi
    dir=$(cd "$(dirname "$src")" && pwd -P)
    dir=${dir#"$root"}
    mkdir -p "$rt$dir"
    cp -a "$src" "$rt$dir/"
  done <"$WORK/files"
  cp -L "$root/etc/ssl/certs/ca-certificates.crt" "$rt/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$rt/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$rt/etc/group"
  cp -L "$root/etc/os-release" "$rt/etc/os-release"
  tar -C "$rt" -cf - . | quiet 300 podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL latchkey.smoke.recipe=$RECIPE" \
    --change 'USER 65532:65532' \
    --change 'WORKDIR /home/nonroot' \
    - "$RUNTIME_IMAGE" || fail "podman import of the runtime failed"
  rm -rf "$root" "$rt"
  say "base images: made in $(since "$t") s"
fi

# Remade with the bookworm root, too: a builder on an old root would keep it alive.
if [ "$BASE_MADE" = 0 ] && ours "$BUILDER_IMAGE" &&
  [ "$(label "$BUILDER_IMAGE" latchkey.smoke.rust)" = "$RUST_VERSION" ]; then
  say "builder: cached ($BUILDER_IMAGE, $RUST_VERSION)"
else
  t=$(now)
  # bookworm + the host's toolchain in /usr/local/rust (bin and lib: no docs);
  # cargo on PATH, CARGO_HOME the default /root/.cargo (the registry is mounted
  # there), offline.
  ctr=$(buildah from --pull-never "$BASE_IMAGE" 2>>"$LOG") || fail "buildah from $BASE_IMAGE failed"
  echo "$ctr" >"$WORK/builder-ctr"
  for part in bin lib; do
    quiet 600 buildah copy "$ctr" "$SYSROOT/$part" "/usr/local/rust/$part" ||
      fail "buildah copy of the toolchain's $part failed"
  done
  quiet 60 buildah config \
    --env PATH=/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env CARGO_NET_OFFLINE=true \
    --label "latchkey.smoke.recipe=$RECIPE" --label "latchkey.smoke.rust=$RUST_VERSION" \
    --workingdir /root "$ctr" || fail "buildah config failed"
  quiet 600 buildah commit --format docker --rm "$ctr" "$BUILDER_IMAGE" || fail "buildah commit failed"
  rm -f "$WORK/builder-ctr"
  quiet 60 podman run --rm --network none "$BUILDER_IMAGE" cargo --version ||
    fail "the builder image has no working cargo on PATH"
  say "builder: made in $(since "$t") s ($RUST_VERSION)"
fi

# --- build ------------------------------------------------------------------------------
[ -d "$REGISTRY" ] || fail "no cargo registry at $REGISTRY (run cargo fetch --locked first)"
if command -v cargo >/dev/null 2>&1; then
  # Makes sure every locked crate is in the registry; nothing to do when the
  # host's tests have run (CI does that first).
  quiet 600 cargo fetch --locked --target "$(rustc -vV | sed -n 's/^host: //p')" || fail "cargo fetch --locked failed"
fi
build() { # build LIMIT ARGS…
  local limit=$1
  shift
  quiet "$limit" podman build --pull=never --format docker --network none \
    -v "$REGISTRY:/root/.cargo/registry" "$@" .
}
t=$(now)
build 1800 --target build -t "$CACHE_IMAGE" || fail "podman build (build stage) failed"
build 600 -t "$IMAGE" || fail "podman build failed"
BUILD_S=$(since "$t")
# Drop layers of earlier builds that this one did not reuse (ours only: they carry
# the base images' label); the cache of this build is kept by the two tags.
quiet 120 podman image prune -f --filter label=latchkey.smoke.recipe || true
SIZE=$(podman image ls --format '{{.Size}}' "$IMAGE")
say "built $IMAGE in $BUILD_S s ($SIZE)"
bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
[ "$bytes" -lt 30000000 ] || fail "the image is $SIZE ($bytes bytes); it should stay under 30 MB"
[ "$(podman image inspect --format '{{.Config.Healthcheck}}' "$IMAGE")" != "<nil>" ] ||
  fail "the image has no HEALTHCHECK"

# --- helpers ------------------------------------------------------------------------------
PASSWORD=smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  fail "no free port on 127.0.0.1"
}

# http METHOD URL [curl args…]: sets CODE; the body is in $WORK/body.
http() {
  local method=$1 url=$2
  shift 2
  rm -f "$WORK/body"
  CODE=$(curl -sS --max-time 10 -o "$WORK/body" -w '%{http_code}' -X "$method" "$@" "$url" 2>>"$LOG") || CODE=000
  [ -f "$WORK/body" ] || : >"$WORK/body"
}
# json_str FIELD: the string value of FIELD in the body (flat JSON, no escapes).
json_str() {
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$WORK/body"
}
expect() { # expect CODE WHAT
  [ "$CODE" = "$1" ] || fail "$2: expected $1, got $CODE: $(head -c 400 "$WORK/body")"
}

# start NAME: runs the image on VOLUME at a free port; sets BASE and READY_S.
start() {
  local name=$1 port t
  shift
  for _ in 1 2 3; do
    port=$(free_port)
    t=$(now)
    if quiet 60 podman run -d --name "$name" --label "latchkey.smoke.pid=$RUN_ID" \
      -p "127.0.0.1:$port:8080" -v "$VOLUME:/data" "$@" "$IMAGE"; then
      BASE=http://127.0.0.1:$port
      for _ in $(seq 1 200); do
        if [ "$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$BASE/ready" 2>/dev/null)" = 200 ]; then
          READY_S=$(since "$t")
          return 0
        fi
        if [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
          podman logs "$name" >>"$LOG" 2>&1 || true
          fail "$name exited before /ready"
        fi
        sleep 0.05
        awk -v a="$t" -v b="$(now)" 'BEGIN { exit !(b - a > 10) }' && break
      done
      podman logs "$name" >>"$LOG" 2>&1 || true
      fail "$name: /ready did not answer 200 within 10 s of podman run"
    fi
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true # port taken meanwhile: another
  done
  fail "podman run $name failed"
}

# stop NAME: podman stop -t 10 exits 0, within the 10 s, and the server exits 0
# after flushing the store.
stop() {
  local name=$1 t s code
  t=$(now)
  quiet 30 podman stop -t 10 "$name" || fail "podman stop -t 10 $name failed"
  s=$(since "$t")
  code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
  podman logs "$name" >"$WORK/$name.log" 2>&1 || true
  cat "$WORK/$name.log" >>"$LOG"
  [ "$code" = 0 ] || fail "$name exited $code on SIGTERM (137: killed after the 10 s)"
  grep -q 'store flushed' "$WORK/$name.log" || fail "$name: no \"store flushed\" in its log"
  ok "$name: podman stop -t 10 exited 0 in $s s; the server exited 0 after \"store flushed\""
}

# --- first container ------------------------------------------------------------------------
quiet 30 podman volume create --label "latchkey.smoke.pid=$RUN_ID" "$VOLUME" || fail "podman volume create failed"
start "$C1" -e "LATCHKEY_ADMIN_PASSWORD=$PASSWORD"
READY1_S=$READY_S
ok "$C1: /ready answered 200 $READY1_S s after podman run"

http GET "$BASE/docs"
expect 200 "GET /docs"
grep -q 'SwaggerUIBundle' "$WORK/body" || fail "GET /docs: no Swagger UI in the page"
ok "/docs serves Swagger UI"

http POST "$BASE/api/v1/clients" -u "admin:$PASSWORD" -H 'content-type: application/json' \
  -d '{"name":"smoke","type":"confidential","grant_types":["client_credentials"]}'
expect 201 "POST /api/v1/clients as admin"
CLIENT_ID=$(json_str client_id)
CLIENT_SECRET=$(json_str client_secret)
if [ -z "$CLIENT_ID" ] || [ -z "$CLIENT_SECRET" ]; then
  fail "POST /api/v1/clients: no client_id or client_secret in $(cat "$WORK/body")"
fi
ok "admin created client $CLIENT_ID"

token() { # token: a client_credentials token for CLIENT_ID and CLIENT_SECRET in TOKEN
  http POST "$BASE/oauth/token" -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials
  expect 200 "POST /oauth/token (client_credentials)"
  TOKEN=$(json_str access_token)
  [ -n "$TOKEN" ] || fail "POST /oauth/token: no access_token in $(cat "$WORK/body")"
}
me() { # me TOKEN WHAT: /api/v1/users/me accepts TOKEN as the admin's client token
  http GET "$BASE/api/v1/users/me" -H "Authorization: Bearer $1"
  expect 200 "GET /api/v1/users/me with $2"
  if [ "$(json_str username)" != admin ] || [ "$(json_str client_id)" != "$CLIENT_ID" ]; then
    fail "GET /api/v1/users/me with $2: not the admin through $CLIENT_ID: $(cat "$WORK/body")"
  fi
}
token
TOKEN1=$TOKEN
me "$TOKEN1" "the client_credentials token"
ok "client_credentials token accepted by /api/v1/users/me (admin via $CLIENT_ID)"

quiet 30 podman healthcheck run "$C1" || fail "podman healthcheck run $C1: not healthy"
health=$(podman inspect --format '{{.State.Health.Status}}' "$C1" 2>/dev/null ||
  podman inspect --format '{{.State.Healthcheck.Status}}' "$C1")
[ "$health" = healthy ] || fail "$C1: health status is $health"
ok "podman healthcheck run: $health"

pid=$(podman inspect --format '{{.State.Pid}}' "$C1")
uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "/proc/$pid/status")
for u in $uid; do
  [ "$u" != 0 ] || fail "$C1: the server runs as root (Uid: $uid)"
done
ok "the server runs as UID ${uid%% *} ($(podman top "$C1" user 2>/dev/null | tail -n 1 | tr -s ' '))"

stop "$C1"

# --- second container, same volume -------------------------------------------------------------
# Another admin password: an existing store is never changed, so the first one holds.
start "$C2" -e "LATCHKEY_ADMIN_PASSWORD=not-$PASSWORD"
ok "$C2 on the same volume: /ready answered 200 $READY_S s after podman run"
http GET "$BASE/api/v1/clients/$CLIENT_ID" -u "admin:$PASSWORD"
expect 200 "GET /api/v1/clients/$CLIENT_ID as admin (first password) after restart"
grep -q '"name":"smoke"' "$WORK/body" || fail "client $CLIENT_ID after restart: $(cat "$WORK/body")"
token
me "$TOKEN" "a token from the old secret after restart"
me "$TOKEN1" "the first container's token"
ok "after restart: the admin, client $CLIENT_ID and its secret are kept; the old token still works"
stop "$C2"

say "image size: $SIZE (podman image ls)"
say "podman run to /ready: $READY1_S s"
say "build: $BUILD_S s; whole run: $(since "$T_START") s"
say "passed"
