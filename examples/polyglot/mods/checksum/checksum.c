/* Checksum: a modhost mod in C, built to WebAssembly with `zig cc` or clang (see build.sh). */
#include "extism.h"

MODHOST_EXPORT("onAttach") int32_t on_attach(void) {
  extism_log_info(extism_text("checksum (C) attached"));
  return 0;
}

/* `checksum(text)`: the 32-bit FNV-1a hash of the input's bytes, as a JSON number. */
MODHOST_EXPORT("checksum") int32_t checksum(void) {
  uint32_t hash = 2166136261u;
  uint64_t length = extism_input_length();
  for (uint64_t i = 0; i < length; i++) {
    hash ^= extism_input_load_u8(i);
    hash *= 16777619u;
  }
  char digits[12];
  int count = 0;
  do {
    digits[count++] = (char)('0' + hash % 10);
    hash /= 10;
  } while (hash != 0);
  uint64_t block = extism_alloc((uint64_t)count);
  for (int i = 0; i < count; i++) extism_store_u8(block + (uint64_t)i, (uint8_t)digits[count - 1 - i]);
  extism_output_set(block, (uint64_t)count);
  return 0;
}

/* `add_via_typescript()`: asks the TypeScript mod `scores` to add 20 and 22. */
MODHOST_EXPORT("add_via_typescript") int32_t add_via_typescript(void) {
  uint64_t answer =
      modhost_call(extism_text("{\"mod\":\"scores\",\"function\":\"add\",\"args\":[20,22]}"));
  extism_output_block(answer);
  return 0;
}

/* `refuse()`: fails with a message, as a plugin does. */
MODHOST_EXPORT("refuse") int32_t refuse(void) {
  extism_error_set(extism_text("checksum refuses"));
  return 1;
}

/* Hostile on purpose, for the limits: a loop with no call in it. */
MODHOST_EXPORT("spin") int32_t spin(void) {
  volatile uint32_t n = 0;
  for (;;) n++;
}

/* Hostile on purpose: grows linear memory until refused. */
MODHOST_EXPORT("hoard") int32_t hoard(void) {
  while (__builtin_wasm_memory_grow(0, 16) != (__SIZE_TYPE__)-1) {
  }
  return 0;
}
