#!/usr/bin/env bash
# The package as users get it (run after `npm run build`): packed; checked by publint and
# @arethetypeswrong/cli; installed into an empty app (scripts/install-check.ts: browser packages
# only, no install script); and installed into examples/embed, which type-checks (bundler and
# node16 resolution), builds for production and passes its three-tab Playwright test (on the
# build, then on the dev server), all from the tarball, never from src/.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f handout-*.tgz
npm pack --ignore-scripts --silent > /dev/null
tgz=$(ls handout-*.tgz)
npx publint run "$tgz" --strict
npx attw "$tgz" --profile esm-only
npx tsx scripts/install-check.ts "$tgz"
cd examples/embed
rm -rf node_modules package-lock.json dist test-results
npm install --no-audit --no-fund
npm run typecheck
npm run build
npx playwright test
# The same test against Vite's dev server, where the package is pre-bundled.
SERVE=dev npx playwright test
