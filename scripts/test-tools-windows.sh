# Sourced by scripts/test-windows.sh after scripts/test-tools.sh (whose `say` and `$tools` it
# uses): the suite's Windows part is cross-built for x86_64-pc-windows-gnu (mingw-w64 builds
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
