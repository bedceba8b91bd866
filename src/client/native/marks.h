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
 * only during the call; the caller decodes D's status, E's command, P's cwd from it if it wants
 * (src/shell/mark-payload.ts parseMarkPayload). Must not call back into the same parser.
 */
typedef void (*omnish_mark_cb)(void *ctx, const omnish_mark *mark, const uint8_t *payload, size_t len);

typedef struct omnish_marks omnish_marks;

/** True when `nonce` may be a session's nonce: non-empty, printable ASCII without ';' or space (marks.ts). */
int omnish_marks_valid_nonce(const char *nonce);

/** A parser for one session. NULL when the nonce is not valid (omnish_marks_valid_nonce), or on OOM. */
omnish_marks *omnish_marks_new(const char *nonce);
void omnish_marks_free(omnish_marks *p);

/**
 * Parses the next chunk (MarkParser.push); `cb` may be NULL. The chunk is not kept: an OSC that
 * spans chunks is copied (at most OMNISH_MAX_OSC_BYTES; were memory to run out, that OSC would be
 * abandoned like an oversize one). A chunk in ground state without ESC costs one memchr.
 */
void omnish_marks_push(omnish_marks *p, const uint8_t *chunk, size_t n, omnish_mark_cb cb, void *ctx);

/**
 * Parses the next chunk and writes it without this session's marks to `out` (MarkParser.pushAndStrip):
 * bytes withheld from the previous chunk come first; a tail that may begin a mark is withheld.
 * `out` must hold n + omnish_marks_held(p) bytes; it may be `chunk` itself when nothing is held
 * (omnish_marks_held(p) == 0 before the call: the output is then the chunk with bytes removed),
 * which saves the copy. Returns the bytes written. Withheld bytes are at most one pending OSC
 * (OMNISH_MAX_OSC_BYTES + 3); were memory to run out for them, they are written out instead.
 * Do not mix with omnish_marks_push on one parser.
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
