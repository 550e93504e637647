#!/usr/bin/env bash
# A throwaway container registry for the interop crate's real-registry test:
# Debian's `docker-registry` (the CNCF distribution registry) on 127.0.0.1
# only, with htpasswd authentication, holding one small image that skopeo
# pushes from an OCI layout written here (no network needed but apt's).
#
#   .ci/registry.sh setup     install if missing, configure, start, push team/app:1;
#                             prints the environment for the test (KEY=value lines)
#   .ci/registry.sh env       print that environment again
#   .ci/registry.sh teardown  stop the registry and remove its directory
#
# Then: cargo test -p registry-credentials-interop --all-features -- --ignored
set -euo pipefail

PORT="${REGISTRY_CREDENTIALS_REGISTRY_PORT:-55000}"
DIR="${REGISTRY_CREDENTIALS_REGISTRY_DIR:-/tmp/registry-credentials-registry}"
ADDR="127.0.0.1:${PORT}"
# The one account the registry accepts. A test credential, nothing else.
USER_NAME=team-user
PASSWORD=team-password-1
IMAGE="${ADDR}/team/app:1"

print_env() {
  echo "REGISTRY_CREDENTIALS_REGISTRY=${ADDR}"
  echo "REGISTRY_CREDENTIALS_REGISTRY_IMAGE=${IMAGE}"
  echo "REGISTRY_CREDENTIALS_REGISTRY_USER=${USER_NAME}"
  echo "REGISTRY_CREDENTIALS_REGISTRY_PASSWORD=${PASSWORD}"
}

stop() {
  if [ -f "$DIR/registry.pid" ]; then
    kill "$(cat "$DIR/registry.pid")" 2>/dev/null || true
    rm -f "$DIR/registry.pid"
  fi
}

listening() {
  (exec 4<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null
}

sha() {
  sha256sum "$1" | cut -d' ' -f1
}

size() {
  stat -c %s "$1"
}

# An OCI image layout with one tiny layer, written by hand.
write_image() {
  local out="$1" work="$DIR/work" layer config manifest
  rm -rf "$out" "$work"
  mkdir -p "$out/blobs/sha256" "$work/root"
  echo "hello from registry-credentials" > "$work/root/hello.txt"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/root" -cf "$work/layer.tar" hello.txt
  gzip -n -c "$work/layer.tar" > "$work/layer.tar.gz"
  layer=$(sha "$work/layer.tar.gz")
  cp "$work/layer.tar.gz" "$out/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$(sha "$work/layer.tar")" > "$work/config.json"
  config=$(sha "$work/config.json")
  cp "$work/config.json" "$out/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(size "$work/config.json")" "$layer" "$(size "$work/layer.tar.gz")" > "$work/manifest.json"
  manifest=$(sha "$work/manifest.json")
  cp "$work/manifest.json" "$out/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
    "$manifest" "$(size "$work/manifest.json")" > "$out/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
}

case "${1:-}" in
  setup)
    # Only the environment goes to stdout, for `eval "$(.ci/registry.sh setup)"`.
    exec 3>&1 1>&2
    missing=()
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v skopeo >/dev/null || missing+=(skopeo)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    if [ "${#missing[@]}" -gt 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
    stop
    rm -rf "$DIR"
    mkdir -p "$DIR/data"
    # distribution accepts bcrypt entries only.
    htpasswd -Bbn "$USER_NAME" "$PASSWORD" > "$DIR/htpasswd"
    cat > "$DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/data
http:
  addr: $ADDR
  secret: registry-credentials-test-$$
auth:
  htpasswd:
    realm: registry-credentials-test
    path: $DIR/htpasswd
YAML
    if listening; then
      echo "something already listens on $ADDR; set REGISTRY_CREDENTIALS_REGISTRY_PORT" >&2
      exit 1
    fi
    # fd 3 (setup's stdout) is closed for the server, or `$(… setup)` would
    # wait for it to exit.
    nohup docker-registry serve "$DIR/config.yml" > "$DIR/registry.log" 2>&1 3>&- &
    echo $! > "$DIR/registry.pid"
    for _ in $(seq 1 100); do
      listening && break
      sleep 0.1
    done
    if ! listening; then
      echo "the registry did not start; its log:" >&2
      cat "$DIR/registry.log" >&2
      exit 1
    fi
    write_image "$DIR/image"
    skopeo --insecure-policy copy --quiet "oci:$DIR/image:1" "docker://$IMAGE" \
      --dest-tls-verify=false --dest-creds "$USER_NAME:$PASSWORD"
    print_env >&3
    ;;
  env) print_env ;;
  teardown)
    stop
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 setup|env|teardown" >&2
    exit 2
    ;;
esac
