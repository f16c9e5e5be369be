#!/usr/bin/env bash
# Installs the interop tests' pinned npm packages (package-lock.json) once per lock file, into
#   ${CMESH_CACHE_DIR:-$HOME/.cache/cmesh}/npm-interop-<sha256 of package-lock.json>
# and points LINK (a path in the build tree) at its node_modules. A finished install carries a
# .complete marker; an unfinished one (interrupted, failed) is redone in a fresh staging directory
# and moved into place in one rename, so concurrent runs never see half an install.
#
# usage: npm_install.sh SOURCE_DIR LINK
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR LINK" >&2
  exit 2
fi
source_dir=$1
link=$2

for tool in node npm sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "npm_install.sh: '$tool' not found on PATH: the interop tests need Node.js and npm" \
         "(Debian: apt-get install nodejs npm, which scripts/setup does)" >&2
    exit 1
  fi
done

lock="$source_dir/package-lock.json"
hash=$(sha256sum "$lock" | cut -c1-64)
cache_root=${CMESH_CACHE_DIR:-${HOME:?set HOME or CMESH_CACHE_DIR}/.cache/cmesh}
target="$cache_root/npm-interop-$hash"

if [ ! -f "$target/.complete" ]; then
  mkdir -p "$cache_root"
  staging=$(mktemp -d "$cache_root/.npm-interop-staging-XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  cp "$source_dir/package.json" "$lock" "$staging/"
  echo "npm_install.sh: installing $(node --version) packages of $lock into $target"
  # --ignore-scripts: none of the pinned packages needs an install script to work (protobufjs's
  # postinstall only checks its CLI's optional dependencies), and skipping them keeps the
  # install to exactly the locked tarballs.
  (cd "$staging" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error)
  touch "$staging/.complete"
  # A concurrent run may have finished first: keep its copy, drop ours.
  if [ ! -f "$target/.complete" ]; then
    rm -rf "$target"
    mv -T "$staging" "$target" 2>/dev/null || true
  fi
  if [ ! -f "$target/.complete" ]; then
    echo "npm_install.sh: could not move the install into $target" >&2
    exit 1
  fi
fi

# The modules must load: a cache directory that is complete but broken is a failure, not a pass.
(cd "$target" && node -e "require('@grpc/grpc-js'); require('@grpc/grpc-js-xds')") || {
  echo "npm_install.sh: $target/node_modules does not load; delete $target and re-run" >&2
  exit 1
}
mkdir -p "$(dirname "$link")"
ln -sfn "$target/node_modules" "$link"
echo "npm_install.sh: $link -> $target/node_modules"
