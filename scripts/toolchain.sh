#!/usr/bin/env bash
# Makes the pinned Pulumi CLI available without Pulumi's download servers.
#
# No registry ships the CLI binary, so it is built from the Go module proxy
# (reference: ../shared/reference/pulumi-offline.md, recipe A) and cached
# outside the repository, keyed by version. A `pulumi` already on PATH is used
# when its version matches. Prints the directory holding `pulumi` on stdout's
# last line; progress goes to stderr.
set -euo pipefail

PULUMI_VERSION=3.248.0
cache_root=${IPV6GW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipv6gw}
bin_dir=$cache_root/toolchain/pulumi-v$PULUMI_VERSION

say() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

version_of() { "$1" version 2>/dev/null | tr -d '[:space:]' || true; }

# 1. A matching pulumi on PATH wins (a developer's own install).
if on_path=$(command -v pulumi 2>/dev/null) && [ "$(version_of "$on_path")" = "v$PULUMI_VERSION" ]; then
  say "using $on_path (v$PULUMI_VERSION)"
  dirname "$(readlink -f "$on_path")"
  exit 0
fi

# Beside our built CLI sit the two bundled plugins it looks for there (so it
# neither downloads them nor warns about PATH): the Node.js language host, our
# stand-in for the official one the Go proxy refuses (scripts/language-host),
# and the dynamic-provider shim that ships in @pulumi/pulumi. Both run from the
# project named by IPV6GW_ROOT, which scripts/pulumi.sh sets.
write_plugin_shims() {
  # Written aside and renamed into place: another command may be running the old shim right now.
  cat > "$1/.pulumi-language-nodejs.$$" <<'SHIM'
#!/bin/sh
: "${IPV6GW_ROOT:?pulumi-language-nodejs (ipv6gw stand-in): run pulumi through npm run pulumi, which sets IPV6GW_ROOT}"
# The project's own start script runs the host compiled once; older checkouts have none.
[ -x "$IPV6GW_ROOT/scripts/language-host/start.sh" ] && exec "$IPV6GW_ROOT/scripts/language-host/start.sh" "$@"
exec node "$IPV6GW_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only --project "$IPV6GW_ROOT/tsconfig.json" \
  "$IPV6GW_ROOT/scripts/language-host/main.ts" "$@"
SHIM
  cat > "$1/.pulumi-resource-pulumi-nodejs.$$" <<'SHIM'
#!/bin/sh
# A fleet preview (scripts/fleet) serves all its sites from one provider process: hand the CLI its port.
if [ -n "${IPV6GW_FLEET_PROVIDER_PORT:-}" ]; then echo "$IPV6GW_FLEET_PROVIDER_PORT"; exec sleep 2147483647; fi
: "${IPV6GW_ROOT:?pulumi-resource-pulumi-nodejs: run pulumi through npm run pulumi, which sets IPV6GW_ROOT}"
# node itself, not @pulumi/pulumi's wrapper script: when the CLI stops the plugin, the signal reaches node.
# The project's preload (older checkouts have none) spares loading what only serializing functions needs.
preload=$IPV6GW_ROOT/scripts/preload/defer-modules.js
[ -f "$preload" ] && exec node -r "$preload" "$IPV6GW_ROOT/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" "$@"
exec node "$IPV6GW_ROOT/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" "$@"
SHIM
  chmod 0755 "$1/.pulumi-language-nodejs.$$" "$1/.pulumi-resource-pulumi-nodejs.$$"
  mv -f "$1/.pulumi-language-nodejs.$$" "$1/pulumi-language-nodejs"
  mv -f "$1/.pulumi-resource-pulumi-nodejs.$$" "$1/pulumi-resource-pulumi-nodejs"
}

# Two commands may start at once (two terminals, CI beside a user): one
# builds, the others wait for it here and then take its result from the cache.
mkdir -p "$cache_root/toolchain"
exec 9>"$cache_root/toolchain/.build.lock"
if ! flock -n 9; then
  say "another command is building or checking the toolchain; waiting for it"
  flock 9
fi

# 2. The cache from an earlier build. The version it reported is kept beside it
# (asking again costs a quarter second per command); asked again when the
# binary is newer than that record.
cached_version() {
  if [ -f "$bin_dir/.version" ] && ! [ "$bin_dir/pulumi" -nt "$bin_dir/.version" ]; then cat "$bin_dir/.version"; return; fi
  local v
  v=$(version_of "$bin_dir/pulumi")
  [ -n "$v" ] && printf '%s\n' "$v" > "$bin_dir/.version" 2>/dev/null || true
  printf '%s\n' "$v"
}
if [ -x "$bin_dir/pulumi" ] && [ "$(cached_version)" = "v$PULUMI_VERSION" ]; then
  say "using cached $bin_dir/pulumi"
  write_plugin_shims "$bin_dir"
  echo "$bin_dir"
  exit 0
fi

# 3. Build from the Go module proxy.
command -v go >/dev/null 2>&1 || die "Go is not installed, and no pulumi v$PULUMI_VERSION is on PATH or in $bin_dir.
  Install Go >= 1.25.11 (https://go.dev/dl) or put pulumi v$PULUMI_VERSION on PATH, then run this again."
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[ "${go_minor:-0}" -ge 25 ] || die "$(go env GOVERSION) is too old to build pulumi v$PULUMI_VERSION (needs go1.25.11 or newer)."

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
say "building pulumi v$PULUMI_VERSION from the Go module proxy into $bin_dir (cold: several minutes on 2 cores)"
say "downloading modules github.com/pulumi/pulumi/{pkg,sdk}/v3@v$PULUMI_VERSION"
go mod download github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION
modcache=$(go env GOMODCACHE)
pkg_src=$modcache/github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION
sdk_src=$modcache/github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work" || true' EXIT
# The module cache is read-only, and pkg's go.mod points sdk at ../sdk.
cp -r "$pkg_src" "$work/pkg"
chmod -R u+w "$work/pkg"
cd "$work/pkg"
go mod edit -replace "github.com/pulumi/pulumi/sdk/v3=$sdk_src"

say "compiling (progress: one line per minute)"
# The ticker holds neither the build lock nor stdout, and takes its sleep down
# with it: a sleep left behind would keep a waiting command (and the `$(...)`
# reading our output) waiting up to a minute after the build.
( exec 9>&- >/dev/null
  trap 'kill "${tick:-}" 2>/dev/null; exit 0' TERM
  while :; do sleep 60 & tick=$!; wait "$tick"; say "still compiling ($(( ($(date +%s) - start) / 60 )) min)"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true; chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work" || true' EXIT
mkdir -p "$bin_dir.partial"
go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  -o "$bin_dir.partial/pulumi" ./cmd/pulumi
kill $ticker 2>/dev/null || true

got=$(version_of "$bin_dir.partial/pulumi")
[ "$got" = "v$PULUMI_VERSION" ] || die "built pulumi reports version '$got', expected v$PULUMI_VERSION"
printf '%s\n' "$got" > "$bin_dir.partial/.version"
write_plugin_shims "$bin_dir.partial"
rm -rf "$bin_dir"
mv "$bin_dir.partial" "$bin_dir"
say "built pulumi v$PULUMI_VERSION in $(( $(date +%s) - start )) s"
echo "$bin_dir"
