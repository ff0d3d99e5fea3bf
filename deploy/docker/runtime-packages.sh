#!/bin/sh
# Prints the Debian packages that provide the shared libraries the given
# binaries load, one per line: the runtime stage installs exactly these, so it
# follows the build's dependencies without a hand-kept list.
set -eu
for binary in "$@"; do
  ldd "$binary" | awk '/=> \//{print $3}'
done | sort -u | while read -r lib; do
  path=$(readlink -f "$lib")
  # Debian 12 merges /lib into /usr/lib; dpkg records whichever the package shipped.
  dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null \
    || { echo "runtime-packages: no package owns $path" >&2; exit 1; }
done | cut -d: -f1 | sort -u
