#!/usr/bin/env bash
# `npm run pulumi -- <args>`: the pinned Pulumi CLI with the project's offline
# settings, for the lab and tests. A real site's owner runs plain `pulumi` with
# their own backend instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=$("$root/scripts/toolchain.sh" | tail -n 1)

# The language host and dynamic-provider shims beside the CLI run from here.
export IPV6GW_ROOT=$root
export PATH="$bin_dir:$PATH"
export PULUMI_HOME=${PULUMI_HOME:-$root/.pulumi/home}
own_backend=${PULUMI_BACKEND_URL:+no}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$root/.pulumi/state}
# The lab stack's fixed passphrase; it protects nothing but lab keys.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-ipv6gw-lab}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$root/.pulumi/state" "$PULUMI_HOME"
cd "$root"

# In the project's own backend, a stack with a file in stacks/ (the lab) exists
# from the first command on: a fresh clone can `preview --stack lab` at once.
if [ -z "$own_backend" ]; then
  stack=""
  prev=""
  for a in "$@"; do
    case "$prev" in --stack|-s) stack=$a ;; esac
    case "$a" in --stack=*) stack=${a#--stack=} ;; esac
    prev=$a
  done
  # Its checkpoint on disk says it exists without asking the CLI (a quarter second).
  if [ -n "$stack" ] && [ -f "$root/stacks/Pulumi.$stack.yaml" ] && [ "${1:-}" != "stack" ] &&
     ! [ -f "$root/.pulumi/state/.pulumi/stacks/ipv6gw/$stack.json" ] &&
     ! pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$stack\""; then
    pulumi stack init "$stack" --non-interactive >&2
  fi
fi
exec pulumi "$@"
