#!/usr/bin/env bash
# Obtains ONNX Runtime's native library (libonnxruntime.so.1, linux-x64) from the npm package onnxruntime-node and
# caches it outside the repository. Called by OnnxRuntime.targets at build time; safe to run by hand.
#
#   fetch-onnxruntime.sh CACHE_DIR
#
# - `npm pack` only downloads the tarball: it runs no install scripts and installs nothing.
# - The tarball must match the sha512 integrity pinned below (the value the npm registry publishes for it), or the
#   script fails and keeps nothing.
# - Only package/bin/napi-v6/linux/x64/libonnxruntime.so.1 is extracted; the 113 MB tarball and npm's cache copy of
#   it are deleted. CACHE_DIR keeps the library and manifest.txt (hashes of both).
# - A later run finds the library, checks its sha256 against the manifest, and downloads nothing.
# - flock serialises concurrent builds (several worktrees may build at the same time).
set -euo pipefail

readonly PACKAGE="onnxruntime-node"
readonly VERSION="1.30.0"
# Registry's published integrity of onnxruntime-node-1.30.0.tgz (dist.integrity): base64 of its SHA-512.
readonly INTEGRITY="sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw=="
readonly MEMBER="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
readonly LIB="libonnxruntime.so.1"

fail() {
  # One line, in MSBuild's canonical error format so the build shows it as an error with a code.
  echo "fetch-onnxruntime: error PRED0001: $*" >&2
  exit 1
}

[ $# -eq 1 ] || fail "usage: fetch-onnxruntime.sh CACHE_DIR"
cache="$1"
mkdir -p "$cache" || fail "cannot create the cache folder '$cache'; set PredictorOnnxRuntimeCache (MSBuild) or PREDICTOR_ONNXRUNTIME_CACHE to a writable folder."

exec 9>"$cache/.lock"
flock 9

manifest="$cache/manifest.txt"
library="$cache/$LIB"

if [ -f "$library" ] && [ -f "$manifest" ]; then
  recorded=$(sed -n 's/^library_sha256=//p' "$manifest")
  actual=$(sha256sum "$library" | cut -d' ' -f1)
  if [ -n "$recorded" ] && [ "$recorded" = "$actual" ]; then
    exit 0
  fi
  echo "fetch-onnxruntime: the cached $library does not match the sha256 in $manifest (recorded '$recorded', found '$actual'); fetching it again."
  rm -f "$library" "$manifest"
fi

command -v npm >/dev/null || fail "npm is needed to fetch ONNX Runtime $VERSION ($PACKAGE@$VERSION) and was not found; install npm (Debian: apt-get install npm), or set PREDICTOR_ONNXRUNTIME to your own libonnxruntime.so and build with -p:PredictorFetchOnnxRuntime=false."

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-onnxruntime: downloading $PACKAGE@$VERSION (about 113 MB, once) into $cache"
# A private npm cache, deleted with $work, so no second copy of the tarball stays in ~/.npm.
if ! (cd "$work" && npm pack "$PACKAGE@$VERSION" --ignore-scripts --silent --cache "$work/npm-cache" --pack-destination "$work" >"$work/npm.out" 2>"$work/npm.err"); then
  fail "npm pack $PACKAGE@$VERSION failed: $(tr '\n' ' ' <"$work/npm.err" | cut -c1-400). Check network access to the npm registry, or set PREDICTOR_ONNXRUNTIME to your own libonnxruntime.so and build with -p:PredictorFetchOnnxRuntime=false."
fi
tarball="$work/$PACKAGE-$VERSION.tgz"
[ -f "$tarball" ] || fail "npm pack did not produce $tarball."

actual_integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual_integrity" != "$INTEGRITY" ]; then
  fail "$PACKAGE-$VERSION.tgz does not match the pinned integrity: expected $INTEGRITY, got $actual_integrity. The download is corrupt or not the published package; nothing was kept. Retry, or check your npm registry/mirror."
fi

tar -xzf "$tarball" -C "$work" "$MEMBER" || fail "$PACKAGE-$VERSION.tgz has no $MEMBER."
tarball_sha256=$(sha256sum "$tarball" | cut -d' ' -f1)
rm -f "$tarball"
rm -rf "$work/npm-cache"

library_sha256=$(sha256sum "$work/$MEMBER" | cut -d' ' -f1)
mv "$work/$MEMBER" "$library.tmp"
touch "$library.tmp"  # the tarball stores 1985 as mtime; PreserveNewest copies compare times
mv "$library.tmp" "$library"
{
  echo "package=$PACKAGE@$VERSION"
  echo "tarball_integrity=$INTEGRITY"
  echo "tarball_sha256=$tarball_sha256"
  echo "member=$MEMBER"
  echo "library_sha256=$library_sha256"
} >"$manifest.tmp"
mv "$manifest.tmp" "$manifest"
echo "fetch-onnxruntime: $library ready (sha256 $library_sha256)"
