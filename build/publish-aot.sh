#!/usr/bin/env bash
# Publishes ntr as ONE self-contained Native AOT executable for linux-x64 (net10.0), with the default model
# (models/bert-tiny-sst2-int8) inside it.
#
#   build/publish-aot.sh [OUTPUT]      OUTPUT defaults to artifacts/ntr (the executable itself)
#
# Code baseline: x86-64-v3 (AVX2, FMA, BMI1/2, LZCNT, MOVBE), set by IlcInstructionSet in the Cli csproj. On an
# older CPU the binary stops at startup with the runtime's own message ("The required instruction sets are not
# supported by the current CPU.", then abort: exit status 134) before any of our code runs.
# Native AOT has no "use if present" list for AVX-512: instruction sets outside the baseline compile as absent,
# so the AVX-512 kernel paths are not in this binary (the AVX2 ones run). NTR_AOT_ISA=x86-64-v4 builds a binary
# that has them and REQUIRES AVX-512 (it refuses to start without it, with the message above).
# Fails when the publish reports any trim (IL2xxx) or AOT (IL3xxx) warning.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/artifacts/ntr}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
publish_dir="$(mktemp -d "${TMPDIR:-/tmp}/ntr-aot-publish.XXXXXX")"
log="$publish_dir.log"
trap 'rm -rf "$publish_dir" "$log"' EXIT

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
start=$SECONDS
isa_args=()
# MSBuild splits -p values at commas unless they are escaped as %2C.
if [ -n "${NTR_AOT_ISA:-}" ]; then isa_args=("-p:IlcInstructionSet=${NTR_AOT_ISA//,/%2C}"); fi
if ! dotnet publish "$root/src/NativeTransformer.Cli" -r linux-x64 -c Release -o "$publish_dir" -nologo "${isa_args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "publish-aot: dotnet publish failed" >&2
    exit 1
fi
if grep -E "warning (IL[0-9]+|AOT)" "$log" >&2; then
    echo "publish-aot: the publish has trim/AOT warnings (above); fix them, the AOT binary must be warning-free" >&2
    exit 1
fi

if [ -d "$out" ]; then
    echo "publish-aot: $out is a directory (an older 'dotnet publish -o artifacts/ntr'?); remove it or pass another OUTPUT" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
# Copy then rename, so a running or concurrently started $out is never seen half-written.
cp "$publish_dir/ntr" "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
size=$(stat -c %s "$out")
echo "publish-aot: $out ($((size / 1024)) KiB, $((SECONDS - start)) s)"
