#!/usr/bin/env bash
# Runs the test projects and ends with one line that CI reads: "N passed, N failed, N skipped".
#
#   tests/run-tests.sh           spec + unit + VM integration tests, then docker and podman
#                                with ClearOci (the VM tests need `make build assets`:
#                                out/bin/clearoci and the guest assets; the engine tests also
#                                docker.io, containerd and podman from `make deps`)
#   tests/run-tests.sh --unit    only the projects that start no VM
#
# Builds ClearOci.sln (Debug) once, then runs `dotnet test --no-build` per project with a TRX
# logger, and sums the <Counters> of the TRX files. Exits 1 if a test failed, if a `dotnet test`
# failed, if a project wrote no TRX file or ran no test, or if nothing ran at all.
set -uo pipefail
cd "$(dirname "$0")/.."

DOTNET=${DOTNET:-dotnet}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Built-in defaults only: a host's /etc/clearoci/config.json must not change what the tests see.
export CLEAROCI_CONFIG=$PWD/tests/host-config-defaults.json

projects=(tests/ClearOci.Spec.Tests tests/ClearOci.Tests)
case "${1:-}" in
  "") projects+=(tests/ClearOci.VmTests tests/ClearOci.LifecycleTests tests/ClearOci.ShimTests tests/ClearOci.EngineTests) ;;
  --unit) ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--unit]" >&2; exit 2 ;;
esac

results=$PWD/TestResults/run-tests
rm -rf "$results"
mkdir -p "$results"
status=0

echo "== build (ClearOci.sln, Debug)"
if ! "$DOTNET" build ClearOci.sln -c Debug --nologo -v quiet -clp:ErrorsOnly; then
  echo "run-tests: the build failed; no test ran" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

names=()
for project in "${projects[@]}"; do
  name=$(basename "$project")
  names+=("$name")
  verbosity=minimal
  extra=()
  if [ "$name" = ClearOci.VmTests ] || [ "$name" = ClearOci.EngineTests ]; then
    # One line per test with its time; a stuck test host is ended (each run has its own 120 s limit).
    verbosity=normal
    extra=(--blame-hang --blame-hang-timeout 15m --blame-hang-dump-type none)
  fi
  echo "== $name"
  start=$SECONDS
  "$DOTNET" test "$project" -c Debug --no-build --nologo \
    --results-directory "$results" \
    --logger "trx;LogFileName=$name.trx" \
    --logger "console;verbosity=$verbosity" \
    "${extra[@]}"
  rc=$?
  echo "== $name: dotnet test exited $rc after $((SECONDS - start)) s"
  if [ "$rc" -ne 0 ]; then status=1; fi
done

# Sum the TRX counters. Ignored tests are in total but not in executed, so skipped = total - executed.
summary=$(python3 - "$results" "${names[@]}" <<'PY'
import os, sys
import xml.etree.ElementTree as ET

results, names = sys.argv[1], sys.argv[2:]
passed = failed = skipped = executed = 0
problems = []
for name in names:
    path = os.path.join(results, name + ".trx")
    if not os.path.isfile(path):
        problems.append(f"{name}: no results file ({path})")
        continue
    try:
        counters = ET.parse(path).getroot().find(".//{*}ResultSummary/{*}Counters")
    except ET.ParseError as e:
        problems.append(f"{name}: unreadable results file: {e}")
        continue
    if counters is None:
        problems.append(f"{name}: no <Counters> in {path}")
        continue
    n = lambda key: int(counters.get(key, "0"))
    p = n("passed")
    f = n("failed") + n("error") + n("timeout") + n("aborted")
    e = n("executed")
    s = max(n("total") - e, 0)
    print(f"   {name}: {p} passed, {f} failed, {s} skipped", file=sys.stderr)
    if e == 0:
        problems.append(f"{name}: no test was executed")
    passed, failed, skipped, executed = passed + p, failed + f, skipped + s, executed + e
for problem in problems:
    print(f"run-tests: {problem}", file=sys.stderr)
if executed == 0:
    print("run-tests: no test was executed at all", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if problems or failed or executed == 0 else 0)
PY
)
if [ $? -ne 0 ]; then status=1; fi
if [ -z "$summary" ]; then
  echo "run-tests: could not read the results" >&2
  summary="0 passed, 1 failed, 0 skipped"
  status=1
fi
echo "$summary"
exit "$status"
