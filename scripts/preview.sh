#!/usr/bin/env bash
# `npm run preview -- --stack <stack> [pulumi preview options]`: one site's
# preview with its diff and the policy pack (policy/), at the stack's own
# enforcement levels when it has them (stacks/Pulumi.<stack>.policy.json).
# A mandatory violation fails the preview, naming the policy and the rule.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack=""
prev=""
for a in "$@"; do
  case "$prev" in --stack|-s) stack=$a ;; esac
  case "$a" in --stack=*) stack=${a#--stack=} ;; esac
  prev=$a
done
config=()
if [ -n "$stack" ] && [ -f "$root/stacks/Pulumi.$stack.policy.json" ]; then
  config=(--policy-pack-config "$root/stacks/Pulumi.$stack.policy.json")
fi
exec bash "$root/scripts/pulumi.sh" preview --diff --non-interactive --policy-pack "$root/policy" "${config[@]}" "$@"
