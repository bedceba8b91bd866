/*
 * The shell-integration mark parser of src/shell/marks.ts (MarkParser) in C; marks.h has the API.
 *
 * It is a port, not a redesign: the same states, the same transitions, the same cap and the same
 * strip arithmetic, each piece next to a comment naming its TypeScript counterpart, so the two can
 * be held to each other byte for byte (test/native-marks.test.ts does, with random streams split
 * anywhere). A change to one is a change to both.
 *
 * Memory: the struct, plus two buffers that grow on demand and are kept for reuse: `osc` for an
 * OSC payload that spans chunks (marks.ts oscParts; never more than OMNISH_MAX_OSC_BYTES) and, in
 * strip mode only, `held` for the withheld tail (at most the pending OSC: MAX + 3 bytes). A chunk
 * neither of them is needed for costs one memchr per ESC-free run.
 */
#include "marks.h"

#include <stdlib.h>
#include <string.h>

/** Longest parameter list of a private-mode CSI that is examined, bytes (marks.ts MAX_CSI_PARAMS). */
#define MAX_CSI_PARAMS 64
/** First allocation of a buffer, bytes; it doubles from there up to its cap. */
#define FIRST_CAP 1024

#define ESC 0x1b
#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a
#define BACKSLASH 0x5c

static const char TAG_PREFIX[] = "omnish=";

/* Parser states (marks.ts). Ground is the only state in which an ESC-free run needs no byte-wise look. */
enum {
  GROUND,
  ESCAPE,      /* after ESC */
  CSI_START,   /* after ESC [ */
  CSI_PRIVATE, /* after ESC [ ? */
  OSC,         /* after ESC ], collecting the payload */
  OSC_ESC      /* an ESC inside an OSC: ST if a backslash follows, else the OSC is cut short */
};

struct omnish_marks {
  int state;
  int alt;
  /** Stream offset of the next byte to be pushed. */
  uint64_t pos;
  /** Stream offset of the ESC that began the pending sequence. */
  uint64_t seq_start;
  /** CSI_PRIVATE: the parameter bytes so far (digits and ';'). */
  char csi[MAX_CSI_PARAMS];
  size_t csi_len;
  /** The pending OSC payload's bytes from earlier chunks (marks.ts oscParts, oscLen). */
  uint8_t *osc;
  size_t osc_len, osc_cap;
  /** Strip mode: bytes withheld at the end of the last chunk. */
  uint8_t *held;
  size_t held_len, held_cap;
  /** `omnish=<nonce>`: what a mark's last parameter must be. */
  size_t tag_len;
  char tag[];
};

/**
 * Strip mode, during one call: the virtual buffer held ++ chunk covers stream offsets
 * [v_start, chunk_start + n). Output is written as marks complete (marks.ts collects `cuts` and
 * slices afterwards: the same pieces, in the same order, without a list to grow).
 */
typedef struct {
  uint8_t *out;
  size_t k;
  /** Stream offset up to which the output is decided. */
  uint64_t at;
  uint64_t v_start, chunk_start;
  const uint8_t *chunk;
} strip_ctx;

int omnish_marks_valid_nonce(const char *nonce) {
  if (nonce == NULL || *nonce == '\0') return 0;
  for (const unsigned char *c = (const unsigned char *)nonce; *c; c++)
    if (*c < 0x21 || *c > 0x7e || *c == ';') return 0; /* marks.ts: /^[!-:<-~]+$/ */
  return 1;
}

omnish_marks *omnish_marks_new(const char *nonce) {
  if (!omnish_marks_valid_nonce(nonce)) return NULL;
  size_t tag_len = sizeof TAG_PREFIX - 1 + strlen(nonce);
  omnish_marks *p = calloc(1, sizeof *p + tag_len + 1);
  if (p == NULL) return NULL;
  p->state = GROUND;
  p->tag_len = tag_len;
  memcpy(p->tag, TAG_PREFIX, sizeof TAG_PREFIX - 1);
  memcpy(p->tag + sizeof TAG_PREFIX - 1, nonce, strlen(nonce) + 1);
  return p;
}

void omnish_marks_free(omnish_marks *p) {
  if (p == NULL) return;
  free(p->osc);
  free(p->held);
  free(p);
}

/** Makes `*buf` hold at least `need` bytes (doubling, at most `cap_max`); 0 on OOM or over the cap. */
static int reserve(uint8_t **buf, size_t *cap, size_t need, size_t cap_max) {
  if (need <= *cap) return 1;
  if (need > cap_max) return 0;
  size_t c = *cap ? *cap : FIRST_CAP;
  while (c < need) c *= 2;
  if (c > cap_max) c = cap_max;
  uint8_t *b = realloc(*buf, c);
  if (b == NULL) return 0;
  *buf = b;
  *cap = c;
  return 1;
}

/** Appends to the pending OSC payload; 0 when memory runs out (the caller abandons the OSC). */
static int osc_append(omnish_marks *p, const uint8_t *b, size_t n) {
  if (n == 0) return 1;
  if (!reserve(&p->osc, &p->osc_cap, p->osc_len + n, OMNISH_MAX_OSC_BYTES)) return 0;
  memcpy(p->osc + p->osc_len, b, n);
  p->osc_len += n;
  return 1;
}

/** Strip mode: appends the bytes of stream offsets [a, b) of held ++ chunk to the output (marks.ts slice). */
static void copy_range(const omnish_marks *p, strip_ctx *s, uint64_t a, uint64_t b) {
  if (a >= b) return;
  if (a < s->chunk_start) {
    uint64_t e = b < s->chunk_start ? b : s->chunk_start;
    memcpy(s->out + s->k, p->held + (a - s->v_start), (size_t)(e - a));
    s->k += (size_t)(e - a);
  }
  if (b > s->chunk_start) {
    uint64_t f = a > s->chunk_start ? a : s->chunk_start;
    /* memmove: the output may be the chunk itself (marks.h), always at or below what it copies. */
    memmove(s->out + s->k, s->chunk + (f - s->chunk_start), (size_t)(b - f));
    s->k += (size_t)(b - f);
  }
}

static void report(const omnish_marks *p, char kind, uint64_t end, const uint8_t *payload, size_t len,
                   omnish_mark_cb cb, void *ctx) {
  if (cb == NULL) return;
  omnish_mark m = {kind, p->seq_start, end};
  cb(ctx, &m, payload, len);
}

/** marks.ts altMode: CSI ? <params> h|l completed at `end`; a mark when 1049, 1047 or 47 is among the params. */
static void alt_mode(omnish_marks *p, int on, uint64_t end, omnish_mark_cb cb, void *ctx) {
  int found = 0;
  for (size_t a = 0; a <= p->csi_len && !found;) {
    size_t b = a;
    while (b < p->csi_len && p->csi[b] != ';') b++;
    size_t len = b - a;
    const char *v = p->csi + a;
    found = (len == 4 && (memcmp(v, "1049", 4) == 0 || memcmp(v, "1047", 4) == 0)) ||
            (len == 2 && memcmp(v, "47", 2) == 0);
    a = b + 1;
  }
  if (!found) return;
  p->alt = on;
  report(p, on ? '1' : '0', end, NULL, 0, cb, ctx);
}

/**
 * The kind letter of a complete OSC payload when it is one of this session's marks, else 0
 * (marks.ts endOsc + mark-payload.ts parseMarkPayload): `133;` or `633;`, at least three
 * ';'-separated parts, a known one-letter second part (E and P for 633 only; P with a `Cwd=`
 * parameter), and a last part that is exactly `omnish=<nonce>`.
 */
static char mark_kind(const omnish_marks *p, const uint8_t *pl, size_t len) {
  if (len < 6 || (memcmp(pl, "133;", 4) != 0 && memcmp(pl, "633;", 4) != 0)) return 0;
  size_t last = len; /* the last ';' (memrchr is not portable) */
  while (last > 0 && pl[last - 1] != ';') last--;
  last--; /* len >= 6 and pl[3] == ';', so there is one */
  if (last == 3) return 0; /* two parts only */
  if (len - last - 1 != p->tag_len || memcmp(pl + last + 1, p->tag, p->tag_len) != 0) return 0;
  size_t second = 4; /* the ';' that ends the second part: at most `last` */
  while (pl[second] != ';') second++;
  if (second != 5) return 0;
  int vscode = pl[0] == '6';
  switch (pl[4]) {
    case 'A':
    case 'B':
    case 'C':
    case 'D':
      return (char)pl[4];
    case 'E':
      return vscode ? 'E' : 0;
    case 'P':
      if (!vscode) return 0;
      /* The parameters between the letter and the tag: is one of them Cwd=...? */
      for (size_t a = second + 1; a < last;) {
        size_t b = a;
        while (b < last && pl[b] != ';') b++;
        if (b - a >= 4 && memcmp(pl + a, "Cwd=", 4) == 0) return 'P';
        a = b + 1;
      }
      return 0;
    default:
      return 0;
  }
}

/** marks.ts endOsc: a complete OSC ending at stream offset `end`: one of our marks, or nothing. */
static void end_osc(omnish_marks *p, const uint8_t *pl, size_t len, uint64_t end, omnish_mark_cb cb, void *ctx,
                    strip_ctx *s) {
  char kind = mark_kind(p, pl, len);
  if (kind == 0) return;
  report(p, kind, end, pl, len, cb, ctx);
  if (s == NULL) return;
  /* marks.ts pushAndStrip's cut loop: a mark whose beginning was already passed on is left whole. */
  if (p->seq_start < s->at) return;
  copy_range(p, s, s->at, p->seq_start);
  s->at = end;
}

/** marks.ts oscBytes: consumes OSC payload bytes from c[i] up to and including a terminator; returns the next index. */
static size_t osc_bytes(omnish_marks *p, const uint8_t *c, size_t i, size_t n, uint64_t base, omnish_mark_cb cb,
                        void *ctx, strip_ctx *s) {
  size_t j = i;
  while (j < n && c[j] != BEL && c[j] != ESC && c[j] != CAN && c[j] != SUB) j++;
  if (p->osc_len + (j - i) > OMNISH_MAX_OSC_BYTES) {
    /* Too long to be ours: drop it and read on as ground, so later marks are still found. */
    p->state = GROUND;
    p->osc_len = 0;
    return j;
  }
  if (j == n || (c[j] == ESC && j + 1 == n)) {
    /* The chunk ends inside the OSC (or right after an ESC that may begin its ST): keep a copy. */
    if (!osc_append(p, c + i, j - i)) {
      p->state = GROUND; /* out of memory: as if too long */
      p->osc_len = 0;
      return j;
    }
    if (j < n) p->state = OSC_ESC;
    return n;
  }
  uint8_t b = c[j];
  if (b == BEL || (b == ESC && c[j + 1] == BACKSLASH)) {
    size_t end = b == BEL ? j + 1 : j + 2;
    p->state = GROUND;
    const uint8_t *pl = c + i;
    size_t len = j - i;
    if (p->osc_len > 0) {
      if (!osc_append(p, c + i, j - i)) {
        p->osc_len = 0; /* out of memory: as if too long */
        return j;
      }
      pl = p->osc;
      len = p->osc_len;
    }
    p->osc_len = 0;
    end_osc(p, pl, len, base + end, cb, ctx, s);
    return end;
  }
  p->osc_len = 0;
  if (b == ESC) {
    /* ESC not followed by a backslash cuts the OSC short and begins a new sequence. */
    p->state = ESCAPE;
    p->seq_start = base + j;
  } else {
    p->state = GROUND; /* CAN or SUB cancels */
  }
  return j + 1;
}

/** marks.ts scan: the state machine over one chunk. */
static void scan(omnish_marks *p, const uint8_t *c, size_t n, omnish_mark_cb cb, void *ctx, strip_ctx *s) {
  const uint64_t base = p->pos;
  size_t i = 0;
  while (i < n) {
    switch (p->state) {
      case GROUND: {
        const uint8_t *e = memchr(c + i, ESC, n - i);
        if (e == NULL) {
          i = n;
          break;
        }
        size_t j = (size_t)(e - c);
        p->seq_start = base + j;
        if (j + 2 < n && c[j + 1] == '[' && c[j + 2] != '?') {
          /* The common CSI (colours, cursor moves), in one step instead of ESCAPE and CSI_START:
           * its rest holds no ESC, so ground skips it. */
          i = j + 2;
          break;
        }
        p->state = ESCAPE;
        i = j + 1;
        break;
      }
      case ESCAPE: {
        uint8_t b = c[i];
        if (b == ESC) {
          p->seq_start = base + i;
        } else if (b == ']') {
          p->state = OSC; /* marks.ts beginOsc */
          p->osc_len = 0;
        } else {
          p->state = b == '[' ? CSI_START : GROUND;
        }
        i++;
        break;
      }
      case CSI_START:
        /* Only private modes matter; the rest of any other CSI holds no ESC, so ground skips it. */
        if (c[i] == '?') {
          p->state = CSI_PRIVATE;
          p->csi_len = 0;
          i++;
        } else {
          p->state = GROUND;
        }
        break;
      case CSI_PRIVATE: {
        uint8_t b = c[i];
        if ((b >= '0' && b <= '9') || b == ';') {
          if (p->csi_len == MAX_CSI_PARAMS) p->state = GROUND; /* the 65th byte: too long to examine */
          else p->csi[p->csi_len++] = (char)b;
          i++;
        } else if (b == 'h' || b == 'l') {
          p->state = GROUND;
          i++;
          alt_mode(p, b == 'h', base + i, cb, ctx);
        } else {
          p->state = GROUND; /* not a mode we track; an ESC is looked at again in ground */
        }
        break;
      }
      case OSC:
        i = osc_bytes(p, c, i, n, base, cb, ctx, s);
        break;
      case OSC_ESC:
        if (c[i] == BACKSLASH) {
          p->state = GROUND;
          i++;
          size_t len = p->osc_len;
          p->osc_len = 0;
          end_osc(p, p->osc, len, base + i, cb, ctx, s);
        } else {
          /* The OSC was cut short; its ESC (the previous byte, maybe in the previous chunk) starts anew. */
          p->state = ESCAPE;
          p->seq_start = base + i - 1;
          p->osc_len = 0;
        }
        break;
    }
  }
  p->pos = base + n;
}

void omnish_marks_push(omnish_marks *p, const uint8_t *chunk, size_t n, omnish_mark_cb cb, void *ctx) {
  /* The hot path: most chunks of a pty hold no ESC at all. */
  if (p->state == GROUND && (n == 0 || memchr(chunk, ESC, n) == NULL)) {
    p->pos += n;
    return;
  }
  scan(p, chunk, n, cb, ctx, NULL);
}

/** marks.ts oscMayBeOurs: could the pending OSC still turn out to be `133;...` or `633;...`? */
static int osc_may_be_ours(const omnish_marks *p) {
  size_t k = p->osc_len < 4 ? p->osc_len : 4;
  if (k == 0) return 1;
  return memcmp(p->osc, "133;", k) == 0 || memcmp(p->osc, "633;", k) == 0;
}

/** marks.ts holdFrom: where to start withholding at the end of a chunk; 0 for nothing. */
static int hold_from(const omnish_marks *p, uint64_t *from) {
  switch (p->state) {
    case ESCAPE:
      *from = p->seq_start;
      return 1;
    case OSC:
      if (!osc_may_be_ours(p)) return 0;
      *from = p->seq_start;
      return 1;
    case OSC_ESC:
      /* If the OSC is not ours, the trailing ESC may still begin a mark. */
      *from = osc_may_be_ours(p) ? p->seq_start : p->pos - 1;
      return 1;
    default:
      return 0;
  }
}

size_t omnish_marks_strip(omnish_marks *p, const uint8_t *chunk, size_t n, uint8_t *out, omnish_mark_cb cb,
                          void *ctx) {
  if (p->held_len == 0 && p->state == GROUND && (n == 0 || memchr(chunk, ESC, n) == NULL)) {
    p->pos += n;
    if (out != chunk && n > 0) memcpy(out, chunk, n);
    return n;
  }
  strip_ctx s = {out, 0, 0, p->pos - p->held_len, p->pos, chunk};
  s.at = s.v_start;
  scan(p, chunk, n, cb, ctx, &s);
  const uint64_t v_end = p->pos;
  uint64_t from = v_end;
  hold_from(p, &from);
  if (from < s.v_start) from = s.v_start;
  copy_range(p, &s, s.at, from);
  /* The new held bytes, [from, v_end): a tail of the old ones, then a tail of the chunk. */
  size_t from_old = from < s.chunk_start ? (size_t)(s.chunk_start - from) : 0;
  size_t from_chunk = (size_t)(v_end - (from > s.chunk_start ? from : s.chunk_start));
  if (!reserve(&p->held, &p->held_cap, from_old + from_chunk, (size_t)-1)) {
    /* Out of memory: pass the tail on rather than lose it (a mark split here is not stripped). */
    copy_range(p, &s, from, v_end);
    p->held_len = 0;
    return s.k;
  }
  if (from_old > 0) memmove(p->held, p->held + (p->held_len - from_old), from_old);
  if (from_chunk > 0) memcpy(p->held + from_old, chunk + (n - from_chunk), from_chunk);
  p->held_len = from_old + from_chunk;
  return s.k;
}

size_t omnish_marks_held(const omnish_marks *p) { return p->held_len; }

size_t omnish_marks_take_held(omnish_marks *p, uint8_t *out) {
  size_t n = p->held_len;
  if (n > 0) memcpy(out, p->held, n);
  p->held_len = 0;
  return n;
}

int omnish_marks_alt(const omnish_marks *p) { return p->alt; }

uint64_t omnish_marks_offset(const omnish_marks *p) { return p->pos; }
