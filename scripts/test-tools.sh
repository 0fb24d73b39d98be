# Sourced by scripts/test.sh and .ci/run: brings what the tests need and puts it on PATH and
# PYTHONPATH. Everything but the Rust target and system packages goes into
# `target/test-tools/`; a second run finds it all there at once.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
tools="$root/target/test-tools"
mkdir -p "$tools"

say() { printf 'test-tools: %s\n' "$*" >&2; }

# The WebAssembly guests: a Rust mod built with extism-pdk for wasm32.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

# Python packages: zig (a C compiler for wasm32, from PyPI's ziglang) and the Prometheus
# parser, installed into a folder of their own.
python_dir="$tools/python"
export PYTHONPATH="$python_dir${PYTHONPATH:+:$PYTHONPATH}"
missing_python=()
python3 -c "import ziglang" 2>/dev/null || missing_python+=("ziglang==0.15.2")
python3 -c "import prometheus_client" 2>/dev/null || missing_python+=("prometheus_client==0.26.0")
if ((${#missing_python[@]})); then
  say "installing ${missing_python[*]} from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$python_dir" "${missing_python[@]}"
fi

# npm: the TypeScript compiler, and the packages the JavaScript mods in tests/fixtures/npm
# import unchanged (their versions are pinned by that folder's package-lock.json).
node_dir="$tools/node"
export PATH="$node_dir/node_modules/.bin:$PATH"
if ! [ -x "$node_dir/node_modules/.bin/tsc" ]; then
  say "installing TypeScript from npm"
  npm install --silent --no-fund --no-audit --prefix "$node_dir" typescript@5.9.3
fi
npm_fixture="$root/tests/fixtures/npm/mods/libraries"
if ! [ -d "$npm_fixture/node_modules" ] \
  || ! cmp -s "$npm_fixture/package-lock.json" "$npm_fixture/node_modules/.package-lock.json"; then
  say "installing the npm packages of tests/fixtures/npm"
  (cd "$npm_fixture" && npm ci --silent --no-fund --no-audit --ignore-scripts)
fi

# EmmyLua's Lua checker, built once from crates.io.
cargo_dir="$tools/cargo"
export PATH="$cargo_dir/bin:$PATH"
if ! [ -x "$cargo_dir/bin/emmylua_check" ]; then
  say "building emmylua_check from crates.io (once)"
  cargo install --quiet --locked --root "$cargo_dir" emmylua_check --version 0.25.1
fi

# System tools the help examples pipe into.
missing_system=()
command -v jq >/dev/null || missing_system+=(jq)
command -v dot >/dev/null || missing_system+=(graphviz)
if ((${#missing_system[@]})); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing ${missing_system[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing_system[@]}" >/dev/null
  elif command -v brew >/dev/null; then
    brew install "${missing_system[@]}"
  else
    say "please install: ${missing_system[*]}"
    exit 2
  fi
fi
