#!/usr/bin/env bash
# Builds the shared read-only guest root image: an ext4 file system (4 KiB blocks, no journal)
# behind a 2 MiB NVDIMM pfn info block prefix (mkpfn.py), so the guest mounts it straight from an
# NVDIMM with DAX:  root=/dev/pmem0 rootfstype=ext4 rootflags=dax ro init=/init
#
# Usage: build-image.sh AGENT_BINARY [EXTRA_FILES_DIR]
#   AGENT_BINARY     static executable, installed as /init
#   EXTRA_FILES_DIR  optional tree copied over the root (may replace /init; used by tests)
#
# Content: /init plus empty /proc /sys /dev /run /tmp /mnt /etc (and mke2fs's /lost+found).
# Cached by a hash of all inputs:
#   $CACHE/image/<hash>/clearoci.img   (size is a multiple of 2 MiB)
#   $CACHE/image/<hash>/manifest
# Prints the path of the cached image on stdout. The build is reproducible: the same inputs
# give a byte-identical image (fixed timestamps, uuids and hash seed derived from the hash).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CLEAROCI_CACHE:-/var/cache/clearoci}
epoch=${SOURCE_DATE_EPOCH:-946684800}   # 2000-01-01T00:00:00Z, used for every timestamp

. "$here/lib.sh"
check_args build-image.sh "$@"
command -v mkfs.ext4 >/dev/null || { echo "build-image: mkfs.ext4 missing (apt-get install e2fsprogs)" >&2; exit 1; }

hash=$( {
  echo "clearoci-image v1 epoch=$epoch"
  sha256sum < "$agent"
  [ -z "$extra" ] || tree_digest "$extra"
  cat "$0" "$here/mkpfn.py" "$here/lib.sh"
  mke2fs -V 2>&1 | sed -n 1p
} | sha256sum | cut -c1-16)
out="$cache/image/$hash"
if [ -f "$out/clearoci.img" ] && [ -f "$out/manifest" ]; then echo "$out/clearoci.img"; exit 0; fi

start=$(date +%s.%N)
mkdir -p "$cache/image"
work=$(mktemp -d "$cache/image/build-$hash.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"
for d in proc sys dev run tmp mnt etc; do mkdir -m 0755 "$root/$d"; done
chmod 1777 "$root/tmp"
cp "$agent" "$root/init"
chmod 0755 "$root/init"
if [ -n "$extra" ]; then cp -a --no-preserve=ownership "$extra/." "$root/"; fi
chown -R 0:0 "$root" 2>/dev/null || true
find "$root" -exec touch -h -d "@$epoch" {} +

# Size: the content rounded to 4 KiB blocks, plus metadata, plus a few MiB of headroom; then
# rounded so that the ext4 image itself is a multiple of 2 MiB (the prefix adds exactly 2 MiB).
nfiles=$(find "$root" | wc -l)
content_kib=$(du -s --block-size=1K "$root" | cut -f1)
inodes=$(( nfiles + 64 ))
fs_kib=$(( content_kib + content_kib / 10 + inodes / 4 + 4096 ))
fs_kib=$(( (fs_kib + 2047) / 2048 * 2048 ))

# Deterministic uuid and directory hash seed from the input hash.
uuid_of() { local h; h=$(printf '%s' "$1" | sha256sum | cut -c1-32)
  printf '%s-%s-4%s-8%s-%s' "${h:0:8}" "${h:8:4}" "${h:13:3}" "${h:17:3}" "${h:20:12}"; }
fs_uuid=$(uuid_of "fs-$hash")
seed_uuid=$(uuid_of "seed-$hash")

# A private mke2fs.conf keeps the host's defaults out of the result (no resize_inode: the
# image never grows).
cat > "$work/mke2fs.conf" <<'CONF'
[defaults]
	base_features = sparse_super,large_file,filetype,dir_index,ext_attr
	blocksize = 4096
	inode_size = 256
[fs_types]
	ext4 = {
		features = extent,64bit,flex_bg,metadata_csum,huge_file,dir_nlink,extra_isize
	}
	small = {
		blocksize = 4096
	}
	floppy = {
		blocksize = 4096
	}
CONF
truncate -s "${fs_kib}K" "$work/fs.ext4"
E2FSPROGS_FAKE_TIME=$epoch SOURCE_DATE_EPOCH=$epoch MKE2FS_CONFIG="$work/mke2fs.conf" \
mkfs.ext4 -q -F -t ext4 -b 4096 -I 256 -N "$inodes" -m 0 -L clearoci -O ^has_journal \
  -E root_owner=0:0,hash_seed="$seed_uuid",lazy_itable_init=0,nodiscard \
  -U "$fs_uuid" -d "$root" "$work/fs.ext4" >&2
# mke2fs -d copies ctime (which touch cannot set) and the atime that its own reads of the staging
# tree just updated; pin all four timestamps of every staged inode.
(cd "$root" && find . -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
  p=${p#.}; p=${p:-/}
  for f in atime mtime ctime crtime; do printf 'sif "%s" %s @%s\n' "$p" "$f" "$epoch"; done
done) > "$work/debugfs.cmds"
E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f "$work/debugfs.cmds" "$work/fs.ext4" >/dev/null 2>"$work/debugfs.err" \
  || { cat "$work/debugfs.err" >&2; exit 1; }
if grep -v '^debugfs [0-9]' "$work/debugfs.err" | grep -q .; then cat "$work/debugfs.err" >&2; exit 1; fi
# fsck must find nothing to fix (exit 0); also confirms that -d copied everything in.
E2FSPROGS_FAKE_TIME=$epoch e2fsck -fn "$work/fs.ext4" >/dev/null 2>&1 \
  || { echo "build-image: e2fsck reports problems in the fresh image" >&2; e2fsck -fn "$work/fs.ext4" >&2 || true; exit 1; }

python3 "$here/mkpfn.py" "$work/fs.ext4" "$work/clearoci.img"
img_size=$(stat -c %s "$work/clearoci.img")
[ $(( img_size % (2 * 1024 * 1024) )) -eq 0 ] || { echo "build-image: bad image size $img_size" >&2; exit 1; }

mkdir -p "$work/out"
mv "$work/clearoci.img" "$work/out/clearoci.img"
chmod 0444 "$work/out/clearoci.img"
cat > "$work/out/manifest" <<EOF
hash=$hash
image=clearoci.img
image_bytes=$img_size
image_sha256=$(sha256sum < "$work/out/clearoci.img" | cut -d' ' -f1)
ext4_bytes=$(stat -c %s "$work/fs.ext4")
content_kib=$content_kib
files=$nfiles
inodes=$inodes
fs_uuid=$fs_uuid
agent=$(readlink -f "$agent")
agent_bytes=$(stat -c %s "$agent")
agent_sha256=$(sha256sum < "$agent" | cut -d' ' -f1)
extra_files_dir=${extra:+$(readlink -f "$extra")}
source_date_epoch=$epoch
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
mke2fs=$(mke2fs -V 2>&1 | sed -n 1p)
EOF
rm -rf "$out"
mv "$work/out" "$out"
echo "$out/clearoci.img"
