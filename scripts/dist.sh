#!/usr/bin/env bash
# Builds release archives of modhost, each with its SHA-256, into dist/:
#   dist/modhost-<version>-<target>.tar.gz (.zip for Windows) and <archive>.sha256
#
# With no argument it builds what this machine can: a static Linux binary (musl: it runs on any
# x86_64 Linux, whatever its C library). Name other targets to build them instead
# (`scripts/dist.sh aarch64-apple-darwin` on a Mac); the release workflow calls it once per
# platform. The archive holds the binary, README.md and the docs; `cargo binstall modhost`
# downloads it (see [package.metadata.binstall] in Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(x86_64-unknown-linux-musl)
fi
mkdir -p dist

checksum() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi
}

for target in "${targets[@]}"; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  case "$target" in
    *-linux-musl)
      # The engines are C (QuickJS, Lua, SQLite): they need a C compiler for musl.
      if ! command -v musl-gcc >/dev/null; then
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
          apt-get update -qq && apt-get install -y -qq musl-tools >/dev/null
        else
          echo "dist.sh: $target needs musl-gcc (Debian and Ubuntu: apt-get install musl-tools)" >&2
          exit 2
        fi
      fi
      # musl targets link statically: no dynamic loader, no libc to match on the user's
      # machine.
      export "CC_${target//-/_}=musl-gcc"
      ;;
    x86_64-pc-windows-gnu)
      # Cross-built on Linux, as CI tests it: mingw-w64 compiles the engines.
      if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
        echo "dist.sh: $target needs mingw-w64 (Debian and Ubuntu: apt-get install mingw-w64)" >&2
        exit 2
      fi
      ;;
  esac
  # Release archives carry no symbols: half the download.
  CARGO_PROFILE_RELEASE_STRIP=symbols cargo build --release --locked --target "$target"
  name="modhost-$version-$target"
  staging="dist/$name"
  rm -rf "$staging"
  mkdir -p "$staging"
  binary=modhost
  [[ "$target" == *windows* ]] && binary=modhost.exe
  cp "target/$target/release/$binary" "$staging/"
  cp README.md "$staging/"
  cp -r docs "$staging/docs"
  if [[ "$target" == *windows* ]]; then
    archive="dist/$name.zip"
    rm -f "$archive"
    (cd dist && if command -v zip >/dev/null; then zip -qr "$name.zip" "$name"; else 7z a -bd "$name.zip" "$name" >/dev/null; fi)
  else
    archive="dist/$name.tar.gz"
    tar -C dist -czf "$archive" "$name"
  fi
  rm -rf "$staging"
  (cd dist && checksum "$(basename "$archive")" > "$(basename "$archive").sha256")
  echo "dist.sh: $archive ($(du -h "$archive" | cut -f1)), sha256 $(cut -d' ' -f1 "$archive.sha256")"
done
