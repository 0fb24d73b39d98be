/* The Extism plugin ABI as modhost provides it, for C mods built with clang or zig cc:
 *   zig cc --target=wasm32-freestanding -O2 -nostdlib -Wl,--no-entry -o mod.wasm mod.c
 * Every exported function of type `int32_t f(void)` is a function of the mod; it reads its
 * input from the kernel, writes its output there, and returns 0 (or sets an error and
 * returns 1). Host functions take and return the offset of a kernel block of JSON. */
#ifndef MODHOST_EXTISM_H
#define MODHOST_EXTISM_H

#include <stdint.h>

#define EXTISM_IMPORT(name) __attribute__((import_module("extism:host/env"), import_name(name)))
#define MODHOST_IMPORT(name) __attribute__((import_module("extism:host/user"), import_name(name)))
#define MODHOST_EXPORT(name) __attribute__((export_name(name)))

EXTISM_IMPORT("input_length") uint64_t extism_input_length(void);
EXTISM_IMPORT("input_load_u8") uint8_t extism_input_load_u8(uint64_t offset);
EXTISM_IMPORT("alloc") uint64_t extism_alloc(uint64_t length);
EXTISM_IMPORT("length") uint64_t extism_length(uint64_t block);
EXTISM_IMPORT("load_u8") uint8_t extism_load_u8(uint64_t offset);
EXTISM_IMPORT("store_u8") void extism_store_u8(uint64_t offset, uint8_t value);
EXTISM_IMPORT("output_set") void extism_output_set(uint64_t block, uint64_t length);
EXTISM_IMPORT("error_set") void extism_error_set(uint64_t block);
EXTISM_IMPORT("log_info") void extism_log_info(uint64_t block);

MODHOST_IMPORT("modhost_call") uint64_t modhost_call(uint64_t request);

/* A kernel block holding `length` bytes of `data`. */
static inline uint64_t extism_block(const char *data, uint64_t length) {
  uint64_t block = extism_alloc(length);
  for (uint64_t i = 0; i < length; i++) extism_store_u8(block + i, (uint8_t)data[i]);
  return block;
}

static inline uint64_t extism_string_length(const char *text) {
  uint64_t length = 0;
  while (text[length]) length++;
  return length;
}

/* A kernel block holding a NUL-terminated string (without the NUL). */
static inline uint64_t extism_text(const char *text) {
  return extism_block(text, extism_string_length(text));
}

/* Makes a whole block the call's output. */
static inline void extism_output_block(uint64_t block) {
  extism_output_set(block, extism_length(block));
}

#endif
