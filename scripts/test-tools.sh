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

# System tools the help examples pipe into, and `script`, which gives `check` a terminal.
missing_system=()
command -v jq >/dev/null || missing_system+=(jq)
command -v dot >/dev/null || missing_system+=(graphviz)
command -v script >/dev/null || missing_system+=(util-linux)
if ((${#missing_system[@]})); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing ${missing_system[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing_system[@]}" >/dev/null
  elif command -v brew >/dev/null; then
    brew install "${missing_system[@]/util-linux/}"
  else
    say "please install: ${missing_system[*]}"
    exit 2
  fi
fi

# Windows: the suite's Windows part is cross-built for x86_64-pc-windows-gnu (mingw-w64 builds
# the C parts: QuickJS, Lua, SQLite) and run under Wine, in a Wine prefix of its own.
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  say "adding the x86_64-pc-windows-gnu Rust target"
  rustup target add x86_64-pc-windows-gnu
fi
missing_windows=()
command -v x86_64-w64-mingw32-gcc >/dev/null || missing_windows+=(mingw-w64)
command -v wine >/dev/null || missing_windows+=(wine wine64)
if ((${#missing_windows[@]})); then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing ${missing_windows[*]} with apt-get"
    apt-get update -qq && apt-get install -y -qq "${missing_windows[@]}" >/dev/null
  else
    say "please install: ${missing_windows[*]}"
    exit 2
  fi
fi
export WINEPREFIX="$tools/wine"
export WINEDEBUG=-all
if ! [ -f "$WINEPREFIX/system.reg" ]; then
  say "making a Wine prefix in $WINEPREFIX (once)"
  wineboot --init >/dev/null 2>&1 || true
  wineserver --wait || true
fi
# Rust's standard library calls ProcessPrng from bcryptprimitives.dll, which Wine 8 (Debian 12)
# does not have (Wine 9 does): a two-line DLL that answers it with BCryptGenRandom stands in.
shim="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if ! [ -f "$shim" ]; then
  say "building the bcryptprimitives.dll stand-in for Wine"
  shim_src="$tools/bcryptprimitives"
  mkdir -p "$shim_src"
  printf '%s\n' '#include <windows.h>' '#include <bcrypt.h>' \
    'BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {' \
    '    return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;' \
    '}' > "$shim_src/shim.c"
  printf '%s\n' 'LIBRARY bcryptprimitives' 'EXPORTS' 'ProcessPrng' > "$shim_src/shim.def"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" "$shim_src/shim.c" "$shim_src/shim.def" -lbcrypt
fi
