#!/bin/sh
# Runs every benchmark scenario against every server and writes
# bench/RESULTS.md, bench/results.json and bench/charts/*.png.
#   bench/run.sh -quick     smoke run, about 2 minutes
#   bench/run.sh            full suite, 3 repetitions
# S4 and S7 start several plezi nodes sharing Redis on 127.0.0.1:6379
# (-redis ADDR): the runner stops at once when it does not answer.
# The runner lives in the bench/peers module so that the peers' and the
# plotting dependencies stay out of the main module.
set -e
cd "$(dirname "$0")/peers"
exec go run ./cmd/runall "$@"
