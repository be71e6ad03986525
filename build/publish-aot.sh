#!/usr/bin/env bash
# Publishes ntr as self-contained Native AOT executables for linux-x64 (net10.0), with the default model
# (models/bert-tiny-sst2-int8) inside each:
#
#   build/publish-aot.sh [OUTPUT]      OUTPUT defaults to artifacts/ntr (the executable itself)
#
#   OUTPUT          baseline x86-64-v3 (AVX2, FMA, BMI1/2, LZCNT, MOVBE): runs on every AVX2 CPU.
#   OUTPUT-avx512   baseline x86-64-v4 (+ AVX-512 F/BW/CD/DQ/VL): the AVX-512 kernels.
#
# Ship both side by side and run OUTPUT: on a CPU + OS with AVX-512 it runs OUTPUT-avx512 with the same arguments
# and stdio and returns its exit code (IsaLauncher.cs; NTR_ISA=avx2 keeps the x86-64-v3 code). Native AOT cannot
# hold both kernel sets in one binary: ILC compiles every instruction set outside the baseline as absent (docs/aot.md).
# OUTPUT alone still works everywhere (with the AVX2 kernels). Below x86-64-v3 the binary stops at startup with the
# runtime's own message ("The required instruction sets are not supported by the current CPU.", then abort: exit
# status 134) before any of our code runs.
#
# NTR_AOT_FLAVOURS=v3 (or v4) publishes only that one; default "v3 v4". Each flavour keeps its own ILC output and
# link folders (obj/.../native-x86-64-vN/ and .../bin/), so rebuilding one does not invalidate the other — and an
# incremental publish never takes the other flavour's linked binary as up to date (with one shared link folder, a
# second run in the same tree shipped the x86-64-v4 binary as ntr, which an AVX2-only CPU refuses to start).
# Fails when a publish reports any trim (IL2xxx) or AOT (IL3xxx) warning.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/artifacts/ntr}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
flavours="${NTR_AOT_FLAVOURS:-v3 v4}"
if [ -d "$out" ]; then
    echo "publish-aot: $out is a directory (an older 'dotnet publish -o artifacts/ntr'?); remove it or pass another OUTPUT" >&2
    exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$(dirname "$out")"
obj="$root/src/NativeTransformer.Cli/obj/Release/net10.0/linux-x64"

publish() { # $1 = v3|v4
    local isa="x86-64-$1" target="$out" start=$SECONDS
    [ "$1" = v4 ] && target="$out-avx512"
    local publish_dir log
    publish_dir="$(mktemp -d "${TMPDIR:-/tmp}/ntr-aot-publish.XXXXXX")"
    log="$publish_dir.log"
    if ! dotnet publish "$root/src/NativeTransformer.Cli" -r linux-x64 -c Release -o "$publish_dir" -nologo \
            "-p:IlcInstructionSet=$isa" "-p:NativeIntermediateOutputPath=$obj/native-$isa/" \
            "-p:NativeOutputPath=$obj/native-$isa/bin/" >"$log" 2>&1; then
        cat "$log" >&2
        rm -rf "$publish_dir" "$log"
        echo "publish-aot: dotnet publish ($isa) failed" >&2
        exit 1
    fi
    if grep -E "warning (IL[0-9]+|AOT)" "$log" >&2; then
        rm -rf "$publish_dir" "$log"
        echo "publish-aot: the $isa publish has trim/AOT warnings (above); fix them, the AOT binary must be warning-free" >&2
        exit 1
    fi
    # Copy then rename, so a running or concurrently started binary is never seen half-written.
    cp "$publish_dir/ntr" "$target.tmp.$$"
    mv -f "$target.tmp.$$" "$target"
    rm -rf "$publish_dir" "$log"
    echo "publish-aot: $target ($isa, $(($(stat -c %s "$target") / 1024)) KiB, $((SECONDS - start)) s)"
}

for f in $flavours; do
    case "$f" in v3|v4) publish "$f" ;; *) echo "publish-aot: NTR_AOT_FLAVOURS: '$f' is not v3 or v4" >&2; exit 2 ;; esac
done
