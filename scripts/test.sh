#!/usr/bin/env bash
# `npm test`, the README's test command: on a fresh machine it first gets
# what the tests need (npm packages, the host's Debian packages, the Pulumi
# toolchain; the last two are cached or skipped when present), then runs
# every jest project: unit, integration (lab, real SSH) and e2e (pulumi up on
# the lab). Serial, because the lab is one shared site. Extra arguments go to
# jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/@pulumi/pulumi ] || npm ci
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/prereqs.sh
else
  echo "test: not root, so the lab cannot run; integration and e2e tests will fail saying so (run as root)" >&2
fi
bash scripts/toolchain.sh > /dev/null
exec npx jest --runInBand "$@"
