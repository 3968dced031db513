#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (torch-free: the zip, pickle, JSON and safetensors readers, the tensor bounds
# check and checkpoint verification, with AddressSanitizer and UndefinedBehaviorSanitizer) and runs a bounded
# campaign: first every committed crash input under fuzz/regressions/<target>/ once, then each target for N seconds
# from a seed corpus made at run time (fuzz/make_seeds.py). Prints per target the inputs tried, seconds, crashes,
# sanitizer reports and hangs; exits non-zero on any of them.
#   scripts/fuzz.sh                          # CI: 45 s per target
#   scripts/fuzz.sh --seconds-per-target 600 # on demand
#   scripts/fuzz.sh --long                   # on demand: 1800 s per target, corpus kept in build/fuzz/corpus
#   scripts/fuzz.sh --targets zip,pickle     # a subset
# Needs clang with libFuzzer (Debian 12: apt-get install clang-14 libclang-rt-14-dev; Debian 13: clang-19
# libclang-rt-19-dev); python3 (with torch, if installed, for .pt seeds). Findings are written to
# build/fuzz/artifacts/<target>/: copy a small one to fuzz/regressions/<target>/ once it is fixed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=45
targets=(zip pickle json safetensors bounds pt sealed)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds-per-target) seconds="$2"; shift 2 ;;
    --long) seconds=1800; shift ;;
    --targets) IFS=, read -r -a targets <<< "$2"; shift 2 ;;
    *) echo "fuzz.sh: unknown option $1 (--seconds-per-target N, --long, --targets a,b)" >&2; exit 2 ;;
  esac
done

# clang by version, newest first: Debian 13 has clang-19, Debian 12 clang-14; CXX overrides.
find_clang() {
  local probe; probe=$(mktemp -d)
  printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' > "$probe/p.cc"
  for cxx in ${CXX:-} clang++-21 clang++-20 clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14 clang++; do
    if command -v "$cxx" > /dev/null && "$cxx" -fsanitize=fuzzer "$probe/p.cc" -o "$probe/p" 2> /dev/null; then
      rm -rf "$probe"; echo "$cxx"; return 0
    fi
  done
  rm -rf "$probe"; return 1
}
if ! CXX=$(find_clang); then
  echo "fuzz.sh: no clang++ with libFuzzer found. Debian 12: apt-get install clang-14 libclang-rt-14-dev;" \
       "Debian 13: apt-get install clang-19 libclang-rt-19-dev" >&2
  exit 2
fi

out="$root/build/fuzz"
mkdir -p "$out/bin" "$out/artifacts" "$out/logs"
parsers=(native/core/weights/zip.cc native/core/weights/pickle.cc native/core/weights/json.cc
         native/core/weights/safetensors.cc native/core/weights/bounds.cc native/core/train/sealed.cc)
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$root/native")
echo "fuzz.sh: building ${#targets[@]} targets with $CXX"
mkdir -p "$out/obj"
objects=()
for src in "${parsers[@]}"; do  # each parser compiled once, with -fsanitize=fuzzer's coverage, for every target
  obj="$out/obj/$(basename "$src" .cc).o"
  (cd "$root" && "$CXX" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$src" -o "$obj") || { echo "fuzz.sh: build failed" >&2; exit 2; }
  objects+=("$obj")
done
for t in "${targets[@]}"; do
  [ -f "$root/fuzz/$t.cc" ] || { echo "fuzz.sh: no target fuzz/$t.cc" >&2; exit 2; }
  (cd "$root" && "$CXX" "${flags[@]}" "fuzz/$t.cc" "${objects[@]}" -o "$out/bin/$t") || { echo "fuzz.sh: build failed" >&2; exit 2; }
done

seeds="$out/seeds"
rm -rf "$seeds"
extra=()
for f in "$root"/test/fixtures/*.pt "$root"/test/fixtures/*.safetensors; do [ -f "$f" ] && extra+=("$f"); done
python=${TRANSFUSION_TEST_PYTHON:-/usr/bin/python3}
command -v "$python" > /dev/null || python=python3
"$python" "$root/fuzz/make_seeds.py" "$seeds" ${extra[@]+"${extra[@]}"}

# ASan: leaks are findings too; UBSan: a report stops the run (-fno-sanitize-recover) and prints its stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
printf '%-12s %12s %8s %8s %10s %6s  %s\n' target inputs seconds crashes sanitizer hangs result
for t in "${targets[@]}"; do
  log="$out/logs/$t.log"
  artifacts="$out/artifacts/$t"
  rm -rf "$artifacts"; mkdir -p "$artifacts"
  regressions=()
  if [ -d "$root/fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done < <(find "$root/fuzz/regressions/$t" -type f -print0)
  fi
  : > "$log"
  rc=0
  if [ ${#regressions[@]} -gt 0 ]; then  # the committed crash inputs, each run once
    "$out/bin/$t" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" "${regressions[@]}" >> "$log" 2>&1 || rc=$?
  fi
  corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  start=$(date +%s)
  if [ $rc -eq 0 ]; then
    "$out/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "$seeds/$t" >> "$log" 2>&1 || rc=$?
  fi
  elapsed=$(( $(date +%s) - start ))
  # libFuzzer's final stats: number_of_executed_units (clang 14-19; older releases said _runs)
  runs=$(grep -o -E 'stat::number_of_executed_(units|runs): *[0-9]+' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \) | wc -l)
  hangs=$(find "$artifacts" -type f -name 'timeout-*' | wc -l)
  reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" || true)
  result=ok
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ] || [ "$reports" -gt 0 ]; then result="FAILED (exit $rc, log $log)"; status=1; fi
  printf '%-12s %12s %8s %8s %10s %6s  %s\n' "$t" "${runs:-0}" "$elapsed" "$crashes" "$reports" "$hangs" "$result"
done
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: findings in $out/artifacts (reproduce: build/fuzz/bin/<target> <file>)" >&2
fi
[ "$seconds" -ge 1800 ] || rm -rf "$out/corpus"
exit $status
