#!/usr/bin/env bash
# Builds the ClearOci guest kernel from Debian's linux-source-6.1 and the fragment in
# kernel/clearoci.config. The result is cached by a hash of its inputs:
#   $CACHE/kernel/<hash>/vmlinux   (ELF, booted through PVH)
# Prints the path of the cached vmlinux on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CLEAROCI_CACHE:-/var/cache/clearoci}
src_tar=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}
jobs=${JOBS:-$(nproc)}
[ -f "$src_tar" ] || { echo "build-kernel: $src_tar is missing (apt-get install linux-source-6.1)" >&2; exit 1; }

hash=$( { cat "$here/kernel/clearoci.config" "$0"; dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$src_tar"; } | sha256sum | cut -c1-16)
out="$cache/kernel/$hash"
if [ -f "$out/vmlinux" ]; then echo "$out/vmlinux"; exit 0; fi

work="$cache/kernel/build-$hash"
rm -rf "$work"; mkdir -p "$work"
start=$(date +%s)
tar -xJf "$src_tar" -C "$work" --strip-components=1
cd "$work"
make -s ARCH=x86_64 tinyconfig >&2
scripts/kconfig/merge_config.sh -m .config "$here/kernel/clearoci.config" >&2
make -s ARCH=x86_64 olddefconfig >&2
# Every option of the fragment must have survived olddefconfig (a typo or a missing dependency
# would silently drop it).
missing=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue;; esac
  opt=${line%%=*}; val=${line#*=}
  if [ "$val" = n ]; then
    grep -q "^$opt=" .config && { echo "build-kernel: $opt should be off" >&2; missing=1; }
  else
    grep -qx "$opt=$val" .config || { echo "build-kernel: $opt=$val did not survive olddefconfig" >&2; missing=1; }
  fi
done < "$here/kernel/clearoci.config"
[ "$missing" = 0 ] || exit 1
make -s ARCH=x86_64 -j"$jobs" vmlinux >&2
strip --strip-debug -o vmlinux.stripped vmlinux
mkdir -p "$out.tmp"
cp vmlinux.stripped "$out.tmp/vmlinux"
cp .config "$out.tmp/config"
echo "$(( $(date +%s) - start ))" > "$out.tmp/build-seconds"
make -s kernelrelease > "$out.tmp/release"
rm -rf "$out"; mv "$out.tmp" "$out"
cd /; rm -rf "$work"
echo "$out/vmlinux"
