#!/usr/bin/env bash
# The whole test suite: type check, then every test/**/*.test.ts under node:test.
# Tests that need real software (unbound, nsd, postfix) install it themselves
# through scripts/system-deps.sh when they run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
