/*
 * Throughput of the C mark parser (src/client/native/marks.c) with no Node around it, for
 * bench/marks.ts: reads FILE into memory, then feeds it to omnish_marks_push (and, separately,
 * omnish_marks_strip) in CHUNK-byte pieces, REPS times each, and prints one JSON line:
 *   {"bytes":N,"marks":M,"pushUs":[...],"stripUs":[...]}
 * (µs per pass over the whole file). Built at run time by bench/marks.ts together with marks.c.
 *
 * Usage: marks FILE CHUNK REPS
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/client/native/marks.h"

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void count(void *ctx, const omnish_mark *m, const uint8_t *payload, size_t len) {
  (void)m, (void)payload, (void)len;
  ++*(size_t *)ctx;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: marks FILE CHUNK REPS\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (f == NULL) {
    perror(argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  size_t n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc(n), *out = malloc((size_t)atol(argv[2]) + OMNISH_MAX_OSC_BYTES + 3);
  if (data == NULL || out == NULL || fread(data, 1, n, f) != n) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  fclose(f);
  size_t chunk = (size_t)atol(argv[2]);
  int reps = atoi(argv[3]);
  size_t marks = 0, sink = 0;
  printf("{\"bytes\":%zu", n);
  for (int strip = 0; strip <= 1; strip++) {
    printf(strip ? ",\"stripUs\":[" : ",\"pushUs\":[");
    for (int r = 0; r < reps; r++) {
      omnish_marks *p = omnish_marks_new("bench-nonce");
      marks = 0;
      double t0 = now_us();
      for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        if (strip) sink += omnish_marks_strip(p, data + at, len, out, count, &marks);
        else omnish_marks_push(p, data + at, len, count, &marks);
      }
      printf("%s%.0f", r ? "," : "", now_us() - t0);
      omnish_marks_free(p);
    }
    printf("]");
  }
  printf(",\"marks\":%zu,\"sink\":%zu}\n", marks, sink);
  return 0;
}
