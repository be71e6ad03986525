#!/usr/bin/env bash
# Installs the load generator for bench/load (wrk, from Debian). Idempotent; bench-only: nothing in src/ or the tests needs it.
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq wrk
