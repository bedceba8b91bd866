/*
 * Shell-integration marks in a pty's output, in C: the same parser as src/shell/marks.ts
 * (OSC 133/633 ending in `omnish=<nonce>`, BEL or ST terminated; CSI ? 1049/1047/47 h/l for the
 * alternate screen), incremental over chunks split anywhere, with the same stream offsets,
 * the same MAX_OSC_BYTES cap and the same strip rules. Pure: no I/O, no globals.
 */
#ifndef OMNISH_MARKS_H
#define OMNISH_MARKS_H

#include <stddef.h>
#include <stdint.h>

/** Longest OSC payload kept, bytes (marks.ts MAX_OSC_BYTES). */
#define OMNISH_MAX_OSC_BYTES (64 * 1024)

/** One mark completed in the stream. */
typedef struct {
  /** 'A' 'B' 'C' 'D' 'E' 'P', or '1' for alt-on and '0' for alt-off. */
  char kind;
  /** Stream offset of the sequence's ESC, and just after its last byte. */
  uint64_t start, end;
} omnish_mark;

/**
 * Called for each mark, in order. `payload` is the OSC payload (for alt marks: NULL, 0), valid
 * only during the call; the caller decodes D's status, E's command, P's cwd from it if it wants.
 */
typedef void (*omnish_mark_cb)(void *ctx, const omnish_mark *mark, const uint8_t *payload, size_t len);

typedef struct omnish_marks omnish_marks;

/** A parser for one session. NULL when the nonce is not printable ASCII without ';' or space, or on OOM. */
omnish_marks *omnish_marks_new(const char *nonce);
void omnish_marks_free(omnish_marks *p);

/** Parses the next chunk (MarkParser.push). */
void omnish_marks_push(omnish_marks *p, const uint8_t *chunk, size_t n, omnish_mark_cb cb, void *ctx);

/**
 * Parses the next chunk and writes it without this session's marks to `out` (MarkParser.pushAndStrip):
 * bytes withheld from the previous chunk come first; a tail that may begin a mark is withheld.
 * `out` must hold n + omnish_marks_held(p) bytes. Returns the bytes written.
 */
size_t omnish_marks_strip(omnish_marks *p, const uint8_t *chunk, size_t n, uint8_t *out, omnish_mark_cb cb, void *ctx);

/** Bytes withheld now (strip mode). */
size_t omnish_marks_held(const omnish_marks *p);

/** Copies the withheld bytes to `out` (omnish_marks_held(p) bytes) and forgets them; returns the count. */
size_t omnish_marks_take_held(omnish_marks *p, uint8_t *out);

/** True while the alternate screen is on. */
int omnish_marks_alt(const omnish_marks *p);

/** Stream offset of the next byte. */
uint64_t omnish_marks_offset(const omnish_marks *p);

#endif
