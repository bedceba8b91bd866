/* See frames.h. MessagePack: https://github.com/msgpack/msgpack/blob/master/spec.md */
#include "frames.h"

#include <string.h>

#define FRAME_MAGIC 0x4f4d
#define HEADER_BYTES 7
#define TYPE_IODATA 0x03
#define TYPE_RESIZE 0x04
#define TYPE_GAP 0x05

static size_t put_uint(uint8_t *p, uint64_t v) {
  if (v <= 0x7f) {
    p[0] = (uint8_t)v;
    return 1;
  }
  if (v <= 0xff) {
    p[0] = 0xcc;
    p[1] = (uint8_t)v;
    return 2;
  }
  if (v <= 0xffff) {
    p[0] = 0xcd;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
    return 3;
  }
  if (v <= 0xffffffffu) {
    p[0] = 0xce;
    for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(v >> (24 - 8 * i));
    return 5;
  }
  /* msgpackr writes a JavaScript number above 2^32 - 1 as float64; every such tUs is < 2^53. */
  double d = (double)v;
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  p[0] = 0xcb;
  for (int i = 0; i < 8; i++) p[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
  return 9;
}

static size_t put_fixstr(uint8_t *p, const char *s) {
  size_t n = strlen(s);
  p[0] = (uint8_t)(0xa0 | n); /* keys are short: fixstr */
  memcpy(p + 1, s, n);
  return n + 1;
}

static size_t put_str(uint8_t *p, const char *s) {
  size_t n = strlen(s);
  if (n <= 31) return put_fixstr(p, s);
  size_t h;
  if (n <= 0xff) {
    p[0] = 0xd9;
    p[1] = (uint8_t)n;
    h = 2;
  } else {
    p[0] = 0xda;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)n;
    h = 3;
  }
  memcpy(p + h, s, n);
  return h + n;
}

static size_t put_bin_header(uint8_t *p, size_t n) {
  if (n <= 0xff) {
    p[0] = 0xc4;
    p[1] = (uint8_t)n;
    return 2;
  }
  if (n <= 0xffff) {
    p[0] = 0xc5;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)n;
    return 3;
  }
  p[0] = 0xc6;
  for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
  return 5;
}

static void put_header(uint8_t *p, size_t payload_len, uint8_t type) {
  p[0] = FRAME_MAGIC >> 8;
  p[1] = FRAME_MAGIC & 0xff;
  for (int i = 0; i < 4; i++) p[2 + i] = (uint8_t)(payload_len >> (24 - 8 * i));
  p[6] = type;
}

uint8_t *omnish_iodata_prefix(uint8_t *end, int dir, uint64_t t_us, size_t len) {
  uint8_t tmp[OMNISH_IODATA_PREFIX_MAX];
  size_t k = HEADER_BYTES;
  tmp[k++] = 0x83; /* fixmap of 3: dir, tUs, data */
  k += put_fixstr(tmp + k, "dir");
  tmp[k++] = (uint8_t)dir; /* IoDir: a positive fixint */
  k += put_fixstr(tmp + k, "tUs");
  k += put_uint(tmp + k, t_us);
  k += put_fixstr(tmp + k, "data");
  k += put_bin_header(tmp + k, len);
  put_header(tmp, k - HEADER_BYTES + len, TYPE_IODATA);
  memcpy(end - k, tmp, k);
  return end - k;
}

size_t omnish_gap_frame(uint8_t *out, uint64_t t_us, uint64_t lost_bytes, const char *reason) {
  size_t k = HEADER_BYTES;
  out[k++] = 0x83; /* fixmap of 3: tUs, lostBytes, reason */
  k += put_fixstr(out + k, "tUs");
  k += put_uint(out + k, t_us);
  k += put_fixstr(out + k, "lostBytes");
  k += put_uint(out + k, lost_bytes);
  k += put_fixstr(out + k, "reason");
  k += put_str(out + k, reason);
  put_header(out, k - HEADER_BYTES, TYPE_GAP);
  return k;
}

size_t omnish_resize_frame(uint8_t *out, uint64_t t_us, unsigned cols, unsigned rows) {
  size_t k = HEADER_BYTES;
  out[k++] = 0x83; /* fixmap of 3: tUs, cols, rows */
  k += put_fixstr(out + k, "tUs");
  k += put_uint(out + k, t_us);
  k += put_fixstr(out + k, "cols");
  k += put_uint(out + k, cols);
  k += put_fixstr(out + k, "rows");
  k += put_uint(out + k, rows);
  put_header(out, k - HEADER_BYTES, TYPE_RESIZE);
  return k;
}
