#!/usr/bin/env bash
# Installs one version of the guest assets into SHARE_DIR/versions/<version>/ and switches
# SHARE_DIR/current to it atomically (rename of a symlink). Running VMs keep the files they
# opened; new VMs get the new version; rollback is pointing `current` back (see `rollback`).
#   activate.sh SHARE_DIR KERNEL IMAGE INITRAMFS
#   activate.sh SHARE_DIR --rollback
set -euo pipefail
share=$1; shift
mkdir -p "$share/versions"
switch() { ln -sfn "versions/$1" "$share/.current.tmp" && mv -T "$share/.current.tmp" "$share/current"; }
if [ "${1:-}" = --rollback ]; then
  cur=$(basename "$(readlink "$share/current")")
  prev=$(cat "$share/versions/$cur/previous" 2>/dev/null || true)
  [ -n "$prev" ] && [ -d "$share/versions/$prev" ] || { echo "activate: no previous version to roll back to" >&2; exit 1; }
  switch "$prev"; echo "$prev"; exit 0
fi
kernel=$1 image=$2 initramfs=$3
version=$(cat "$kernel" "$image" "$initramfs" | sha256sum | cut -c1-16)
dest="$share/versions/$version"
if [ ! -d "$dest" ]; then
  mkdir -p "$dest.tmp"
  for f in "$kernel:vmlinux" "$image:clearoci.img" "$initramfs:initramfs.cpio.gz"; do
    src=${f%%:*} name=${f##*:}
    # A hard link keeps one host copy of the image for every VM (one page cache, DAX-shared).
    ln -f "$src" "$dest.tmp/$name" 2>/dev/null || cp "$src" "$dest.tmp/$name"
  done
  echo "$version" > "$dest.tmp/version"
  cur=$(readlink "$share/current" 2>/dev/null || true)
  [ -n "$cur" ] && basename "$cur" > "$dest.tmp/previous"
  mv -T "$dest.tmp" "$dest"
fi
switch "$version"
# Keep the five newest versions.
ls -1t "$share/versions" | tail -n +6 | while read -r old; do [ "$old" = "$version" ] || rm -rf "$share/versions/$old"; done
echo "$version"
