#!/bin/sh
# Starts the language host (main.ts) compiled: once per change of its
# sources, tsc writes JavaScript under .pulumi/language-host/<hash of the
# sources>/ and later starts run that (ts-node would transpile it at every
# pulumi command). If the compile fails, or .pulumi cannot be written, the
# host runs through ts-node as before. The toolchain's pulumi-language-nodejs
# shim runs this script. Stdout is the host's: the CLI reads its port there.
set -u
root=${IPV6GW_ROOT:?run pulumi through npm run pulumi, which sets IPV6GW_ROOT}
src=$root/scripts/language-host
cache=$root/.pulumi/language-host
# Every file main.ts imports outside node_modules, this script (it holds the compiler options), and the packages.
key=$(cat "$src"/*.ts "$root/components/trace.ts" "$src/start.sh" "$root/package-lock.json" | sha256sum | cut -c1-16)
out=$cache/$key
main=$out/scripts/language-host/main.js

# $1: why; the rest: the host's arguments.
through_ts_node() {
  echo "pulumi-language-nodejs (ipv6gw stand-in): $1; running $src/main.ts through ts-node" >&2
  shift
  exec node "$root/node_modules/ts-node/dist/bin.js" --transpile-only --project "$root/tsconfig.json" "$src/main.ts" "$@"
}

if [ ! -f "$main" ]; then
  mkdir -p "$cache" 2>/dev/null && tmp=$(mktemp -d "$cache.XXXXXX" 2>/dev/null) || through_ts_node "cannot write $cache" "$@"
  if ! node "$root/node_modules/typescript/bin/tsc" --outDir "$tmp" --rootDir "$root" --target ES2022 --module commonjs \
       --moduleResolution node --esModuleInterop --skipLibCheck --strict --types node "$src/main.ts" >&2; then
    rm -rf "$tmp"
    through_ts_node "could not compile $src/main.ts (above)" "$@"
  fi
  # Another host may have finished first: then keep its copy (it may be running).
  mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"
  # Older versions unused for an hour go, and leftovers of compiles that died.
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -mmin +60 -exec rm -rf {} + 2>/dev/null
  find "$root/.pulumi" -mindepth 1 -maxdepth 1 -type d -name 'language-host.*' -mmin +60 -exec rm -rf {} + 2>/dev/null
fi
# Its mtime says when it was last used, for the pruning above.
touch "$out" 2>/dev/null
exec node "$main" "$@"
