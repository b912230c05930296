# Shared by build-image.sh and build-initramfs.sh (sourced; part of both cache hashes).

# check_args NAME "$@": AGENT_BINARY [EXTRA_FILES_DIR]; sets agent and extra.
check_args() {
  local name=$1; shift
  [ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $name AGENT_BINARY [EXTRA_FILES_DIR]" >&2; exit 2; }
  agent=$1; extra=${2:-}
  [ -f "$agent" ] || { echo "$name: $agent: no such file" >&2; exit 1; }
  [ -z "$extra" ] || [ -d "$extra" ] || { echo "$name: $extra: not a directory" >&2; exit 1; }
}

# Hash of a directory tree: names, types, modes, symlink targets and file contents.
tree_digest() {
  (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
    printf '%s %s\n' "$p" "$(stat -c '%F %a' "$p")"
    if [ -L "$p" ]; then readlink "$p"; elif [ -f "$p" ]; then sha256sum < "$p"; fi
  done)
}
