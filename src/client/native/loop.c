/* See loop.h. poll(2) only, no epoll: portable (macOS needs select() on ttys: see docs/native.md). */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SIGPIPE is ignored by Node anyway */
#endif

/** Room kept in front of a batch for the frame header and the IoData map (frames.h). */
#define PREFIX_ROOM OMNISH_IODATA_PREFIX_MAX
/** A batch with less room than this is sealed before the next read (the kernel hands ~4 KiB). */
#define MIN_READ_ROOM 4096
/** Reads of the master per wake-up before the terminal's input is looked at again. */
#define READS_PER_WAKE 16
/** Keystrokes held for the pty before fd 0 is no longer read (a paste into a program that does not read). */
#define PENDING_INPUT_MAX (1 << 20)
/** Longest prompt kept for redrawing after a `::` command, bytes. */
#define PROMPT_MAX (16 * 1024)

enum { PHASE_UNKNOWN, PHASE_PROMPT, PHASE_INPUT, PHASE_RUNNING };

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t omnish_loop_now_us(const omnish_loop *l) { return (mono_ns() - l->origin_ns) / 1000u; }

static void wake(omnish_loop *l) {
  char c = 1;
  (void)!write(l->wake[1], &c, 1); /* a full pipe is awake already */
}

static omnish_event *event_new(enum omnish_event_type type) {
  omnish_event *ev = calloc(1, sizeof *ev);
  if (ev) ev->type = type;
  return ev;
}

void omnish_event_free(omnish_event *ev) {
  if (!ev) return;
  free(ev->data);
  free(ev->data2);
  free(ev);
}

static void emit(omnish_loop *l, omnish_event *ev) {
  if (ev) l->emit(l->emit_ctx, ev);
}

static void emit_msg(omnish_loop *l, enum omnish_event_type type, const char *what, int code) {
  omnish_event *ev = event_new(type);
  if (!ev) return;
  if (code) snprintf(ev->msg, sizeof ev->msg, "%s: %s", what, strerror(code));
  else snprintf(ev->msg, sizeof ev->msg, "%s", what);
  emit(l, ev);
}

/** Writes all of `data` to `fd`, waiting while it is full; gives up when the fd is gone. */
static void write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w > 0) {
      data += w;
      len -= (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, -1);
    } else {
      return; /* EIO/EPIPE: the terminal is gone, SIGHUP follows */
    }
  }
}

void omnish_loop_write_terminal(omnish_loop *l, const uint8_t *data, size_t len) {
  pthread_mutex_lock(&l->term_mu);
  write_all(l->out_fd, data, len);
  pthread_mutex_unlock(&l->term_mu);
}

int omnish_loop_shell_in_foreground(const omnish_loop *l) {
  pid_t pg = tcgetpgrp(l->master);
  return pg < 0 || pg == l->pid; /* unknown must not block `::` */
}

/* ---- the queue for the daemon (thread-only) ---- */

static void queue_append(omnish_loop *l, omnish_qitem *it) {
  it->next = NULL;
  if (l->q_tail) l->q_tail->next = it;
  else l->q_head = it;
  l->q_tail = it;
  l->q_bytes += it->len;
}

static void update_queued(omnish_loop *l) { atomic_store(&l->queued, l->q_bytes + l->batch_len); }

static uint8_t *batch_data(omnish_loop *l) { return l->batch_mem + sizeof(omnish_qitem) + PREFIX_ROOM; }

static int batch_alloc(omnish_loop *l) {
  l->batch_mem = malloc(sizeof(omnish_qitem) + PREFIX_ROOM + l->opts.batch_bytes);
  l->batch_len = 0;
  return l->batch_mem ? 0 : -1;
}

static void recording_off(omnish_loop *l, const char *why);

/** Turns the open batch into one IoData frame at the end of the queue (no copy: the batch becomes the frame). */
static void seal(omnish_loop *l) {
  if (l->batch_len == 0) return;
  omnish_qitem *it = (omnish_qitem *)l->batch_mem;
  memset(it, 0, sizeof *it);
  uint8_t *data = batch_data(l);
  it->frame = omnish_iodata_prefix(data, OMNISH_DIR_OUTPUT, l->batch_t_us, l->batch_len);
  it->len = (size_t)(data + l->batch_len - it->frame);
  it->output_bytes = l->batch_len;
  queue_append(l, it);
  atomic_fetch_add(&l->frames, 1);
  if (batch_alloc(l) != 0) recording_off(l, "out of memory for the recording");
  update_queued(l);
}

static omnish_qitem *gap_item(uint64_t t_us, uint64_t lost, const char *reason) {
  omnish_qitem *it = calloc(1, sizeof *it + 96 + strlen(reason));
  if (!it) return NULL;
  it->frame = (uint8_t *)(it + 1);
  it->is_gap = 1;
  it->gap_t = t_us;
  it->gap_lost = lost;
  it->gap_reason = reason;
  it->len = 48 + strlen(reason); /* an upper bound until it is encoded, for the cap */
  return it;
}

/** Output over the cap: a Gap where it would have been, or a longer one if the last item is one not yet sent. */
static void drop(omnish_loop *l, size_t n, uint64_t t_us) {
  seal(l);
  l->dropping = 1;
  atomic_fetch_add(&l->lost_bytes, n);
  omnish_qitem *last = l->q_tail;
  if (last && last->is_gap && !last->encoded && last->gap_reason == l->opts.cap_reason) {
    last->gap_lost += n;
    return;
  }
  omnish_qitem *it = gap_item(t_us, n, l->opts.cap_reason);
  if (it) queue_append(l, it);
  update_queued(l);
}

static void free_queue(omnish_loop *l) {
  for (omnish_qitem *it = l->q_head; it;) {
    omnish_qitem *next = it->next;
    free(it);
    it = next;
  }
  l->q_head = l->q_tail = NULL;
  l->q_bytes = 0;
}

static void recording_off(omnish_loop *l, const char *why) {
  if (!l->recording) return;
  l->recording = 0;
  free_queue(l);
  l->batch_len = 0;
  update_queued(l);
  if (why) emit_msg(l, OMNISH_EV_FAULT, why, 0);
}

static void close_outlet(omnish_loop *l) {
  if (l->outlet < 0) return;
  close(l->outlet);
  l->outlet = -1;
  /* The next connection gets the whole frame the old one may have got part of. */
  if (l->q_head) l->q_head->off = 0;
}

/** Writes queued frames until the queue is empty or the socket is full. */
static void write_queue(omnish_loop *l) {
  while (l->q_head && l->outlet >= 0) {
    omnish_qitem *it = l->q_head;
    if (it->is_gap && !it->encoded) {
      size_t bound = it->len;
      it->len = omnish_gap_frame(it->frame, it->gap_t, it->gap_lost, it->gap_reason);
      it->encoded = 1;
      l->q_bytes = l->q_bytes - bound + it->len;
    }
    ssize_t w = send(l->outlet, it->frame + it->off, it->len - it->off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      int e = errno;
      close_outlet(l);
      emit_msg(l, OMNISH_EV_OUTLET_CLOSED, "write to omnishd failed", e);
      break;
    }
    it->off += (size_t)w;
    if (it->off < it->len) continue;
    /* Counted whole frames only: a frame cut by a lost connection goes again, whole, on the next. */
    atomic_fetch_add(&l->sent_bytes, it->is_gap ? it->gap_lost : (unsigned long long)(it->output_bytes + it->input_bytes));
    l->q_head = it->next;
    if (!l->q_head) l->q_tail = NULL;
    l->q_bytes -= it->len;
    free(it);
  }
  update_queued(l);
}

/* ---- output: master -> terminal, copy -> batch ---- */

typedef struct {
  omnish_loop *l;
  uint64_t base; /* stream offset of the chunk's first byte */
  const uint8_t *chunk;
  size_t n;
  size_t from; /* prompt capture: where in this chunk it goes on from */
  omnish_event *pending[64];
  int npending;
} chunk_ctx;

static void prompt_add(omnish_loop *l, const uint8_t *p, size_t n) {
  if (!l->capturing || n == 0) return;
  if (l->prompt_len + n > PROMPT_MAX) {
    l->capturing = 0; /* a "prompt" this long is not one to redraw */
    return;
  }
  memcpy(l->prompt + l->prompt_len, p, n);
  l->prompt_len += n;
}

static void flush_pending(chunk_ctx *c) {
  for (int i = 0; i < c->npending; i++) emit(c->l, c->pending[i]);
  c->npending = 0;
}

/* A mark in the chunk being handled: prompt phase and capture here, the event after the terminal write. */
static void on_mark(void *ctx, const omnish_mark *m, const uint8_t *payload, size_t len) {
  chunk_ctx *c = ctx;
  omnish_loop *l = c->l;
  size_t at = m->end > c->base ? (size_t)(m->end - c->base) : 0;
  if (at > c->n) at = c->n;
  switch (m->kind) {
    case '1':
      atomic_store(&l->alt, 1);
      return;
    case '0':
      atomic_store(&l->alt, 0);
      return;
    case 'A':
      atomic_store(&l->phase, PHASE_PROMPT);
      l->capturing = 1;
      l->prompt_len = 0;
      c->from = at;
      break;
    case 'B':
      prompt_add(l, c->chunk + c->from, at > c->from ? at - c->from : 0);
      atomic_store(&l->phase, PHASE_INPUT);
      atomic_store(&l->line_empty, 1);
      break;
    case 'C':
      atomic_store(&l->phase, PHASE_RUNNING);
      l->capturing = 0;
      break;
    default:
      break;
  }
  omnish_event *ev = event_new(OMNISH_EV_MARK);
  if (!ev) return;
  ev->kind = m->kind;
  ev->start = m->start;
  ev->end = m->end;
  if (len > 0 && (ev->data = malloc(len))) {
    memcpy(ev->data, payload, len);
    ev->len = len;
  }
  if (m->kind == 'B' && l->capturing) {
    if (l->prompt_len > 0 && (ev->data2 = malloc(l->prompt_len))) {
      memcpy(ev->data2, l->prompt, l->prompt_len);
      ev->len2 = l->prompt_len;
    }
    l->capturing = 0;
  }
  if (c->npending == (int)(sizeof c->pending / sizeof c->pending[0])) flush_pending(c);
  c->pending[c->npending++] = ev;
}

/** What the terminal shows of a chunk: itself, or without our marks when stripping. */
static const uint8_t *shown(omnish_loop *l, chunk_ctx *c, size_t *len) {
  if (!l->marks) {
    *len = c->n;
    return c->chunk;
  }
  if (!l->opts.strip_marks) {
    omnish_marks_push(l->marks, c->chunk, c->n, on_mark, c);
    *len = c->n;
    return c->chunk;
  }
  /* strip_buf holds a whole read plus the most a parser withholds (allocated at start). */
  *len = omnish_marks_strip(l->marks, c->chunk, c->n, l->strip_buf, on_mark, c);
  return l->strip_buf;
}

/** Keeps a chunk already read into the open batch, or drops it (paused, over the cap). */
static void record(omnish_loop *l, size_t n) {
  if (!l->recording) return;
  if (l->paused) {
    l->paused_bytes += n;
    return;
  }
  uint64_t now = mono_ns();
  size_t held = l->q_bytes + l->batch_len;
  size_t room = l->opts.cap_bytes > held ? l->opts.cap_bytes - held : 0;
  size_t resume_room = l->opts.batch_bytes < l->opts.cap_bytes / 4 ? l->opts.batch_bytes : l->opts.cap_bytes / 4;
  if (n > room || (l->dropping && room - n < resume_room)) {
    drop(l, n, (now - l->origin_ns) / 1000u);
    return;
  }
  l->dropping = 0;
  if (l->batch_len == 0) {
    l->batch_t_us = (now - l->origin_ns) / 1000u;
    l->batch_deadline_ns = now + (uint64_t)l->opts.batch_ms * 1000000u;
  }
  l->batch_len += n;
  if (l->batch_len + MIN_READ_ROOM > l->opts.batch_bytes) seal(l);
  update_queued(l);
}

static void write_held(omnish_loop *l) {
  if (!l->marks || !l->opts.strip_marks) return;
  size_t n = omnish_marks_held(l->marks);
  if (n == 0) return;
  uint8_t *p = malloc(n);
  if (!p) return;
  omnish_marks_take_held(l->marks, p);
  omnish_loop_write_terminal(l, p, n);
  free(p);
}

static void output_ended(omnish_loop *l) {
  l->output_ended = 1;
  write_held(l);
  seal(l);
  emit(l, event_new(OMNISH_EV_OUTPUT_END));
}

static void read_output(omnish_loop *l) {
  for (int k = 0; k < READS_PER_WAKE; k++) {
    if (l->recording && l->batch_len + MIN_READ_ROOM > l->opts.batch_bytes) seal(l);
    if (!l->batch_mem && batch_alloc(l) != 0) {
      recording_off(l, "out of memory for the recording");
      return;
    }
    uint8_t *dst = batch_data(l) + l->batch_len;
    size_t room = l->opts.batch_bytes - l->batch_len;
    ssize_t n = read(l->master, dst, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) { /* EIO: the shell's side is closed and drained */
      output_ended(l);
      return;
    }
    atomic_fetch_add(&l->out_bytes, (unsigned long long)n);
    chunk_ctx c = {.l = l, .base = l->marks ? omnish_marks_offset(l->marks) : 0, .chunk = dst, .n = (size_t)n};
    size_t len;
    const uint8_t *show = shown(l, &c, &len);
    if (l->capturing) prompt_add(l, dst + c.from, (size_t)n - c.from);
    if (len > 0) omnish_loop_write_terminal(l, show, len);
    flush_pending(&c);
    record(l, (size_t)n);
  }
}

/* ---- input recording (opts.record_input) ---- */

enum { KEYS_HIDDEN, KEYS_ECHOED, KEYS_AT_PROMPT };

/**
 * Whether keys read now would be shown on the terminal anyway, which is when recording them adds
 * nothing the output does not hold: the pty echoes them (termios ECHO), or the shell reads them
 * at its own prompt (bash's readline, zsh's zle and fish turn ECHO off and echo by themselves).
 * Anything else with echo off is hidden: a password prompt (`read -s`, sudo, ssh, gpg), a
 * full-screen program, ssh's remote session, any program reading raw. So is a pty whose state
 * cannot be read, and the prompt of a shell without integration: the check fails closed.
 * Call it before the keys are written to the master: their reader may change the state.
 */
static int keys_visibility(omnish_loop *l) {
  struct termios t;
  if (tcgetattr(l->master, &t) != 0) return KEYS_HIDDEN;
  if (t.c_lflag & ECHO) return KEYS_ECHOED;
  if (!l->marks) return KEYS_HIDDEN;
  /*
   * The phase lags the output. The shell writes a command's C mark before it runs the command, so
   * before the command can turn echo off: when echo is off now, that mark is in the master
   * already, but the thread may not have read it. Read the output first, so a `read -s` is not
   * taken for the prompt it was typed at (and a prompt drawn since is seen as one). This is
   * output the loop would read next anyway.
   */
  if (!l->output_ended && !l->finished_io) read_output(l);
  if (atomic_load(&l->phase) != PHASE_INPUT || atomic_load(&l->alt)) return KEYS_HIDDEN;
  return tcgetpgrp(l->master) == l->pid ? KEYS_AT_PROMPT : KEYS_HIDDEN;
}

/** Queues `n` keystroke bytes as an input IoData frame, after the output read before them. */
static void queue_keys(omnish_loop *l, const uint8_t *p, size_t n, uint64_t t_us) {
  size_t held = l->q_bytes + l->batch_len, need = PREFIX_ROOM + n;
  size_t room = l->opts.cap_bytes > held ? l->opts.cap_bytes - held : 0;
  if (l->dropping || need > room) {
    drop(l, n, t_us); /* counted in the cap's Gap, like output: these keys were visible */
    return;
  }
  seal(l);
  if (!l->recording) return; /* seal ran out of memory */
  omnish_qitem *it = malloc(sizeof *it + need);
  if (!it) {
    recording_off(l, "out of memory for the recording");
    return;
  }
  memset(it, 0, sizeof *it);
  uint8_t *data = (uint8_t *)(it + 1) + PREFIX_ROOM;
  memcpy(data, p, n);
  it->frame = omnish_iodata_prefix(data, OMNISH_DIR_INPUT, t_us, n);
  it->len = (size_t)(data + n - it->frame);
  it->input_bytes = n;
  queue_append(l, it);
  atomic_fetch_add(&l->frames, 1);
  atomic_fetch_add(&l->in_recorded, n);
  update_queued(l);
}

/** The one marker of a stretch of hidden keys: a Gap of 0 bytes (their number is not told either). */
static void hide_keys(omnish_loop *l, uint64_t t_us) {
  if (l->input_hidden) return;
  l->input_hidden = 1;
  seal(l);
  omnish_qitem *it = l->recording ? gap_item(t_us, 0, l->opts.hidden_reason) : NULL;
  if (it) queue_append(l, it);
  update_queued(l);
}

/**
 * Records a keystroke chunk just read from the terminal, or the part of it that is visible. At the
 * prompt that is up to the first line end: what follows was typed ahead for whatever the line
 * runs, which may be a password prompt that has not turned echo off yet.
 */
static void record_keys(omnish_loop *l, const uint8_t *buf, size_t n) {
  if (!l->opts.record_input || !l->recording || l->paused) return;
  int vis = keys_visibility(l);
  if (!l->recording) return; /* the output it read ran the recording out of memory */
  uint64_t t_us = omnish_loop_now_us(l); /* after the output keys_visibility may have read */
  size_t shown = vis == KEYS_HIDDEN ? 0 : n;
  if (vis == KEYS_AT_PROMPT) {
    for (size_t i = 0; i < n; i++) {
      if (buf[i] == '\r' || buf[i] == '\n') {
        shown = i + 1;
        break;
      }
    }
  }
  if (shown > 0) {
    l->input_hidden = 0;
    queue_keys(l, buf, shown, t_us);
  }
  if (shown < n) hide_keys(l, t_us);
}

/* ---- input: terminal -> pty ---- */

/** Writes pending keystrokes to the master (non-blocking); call with mu held. */
static void write_input_locked(omnish_loop *l) {
  while (l->pin_len > 0) {
    ssize_t w = write(l->master, l->pin, l->pin_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (w <= 0) { /* the shell's side is gone: nobody will read them */
      l->pin_len = 0;
      return;
    }
    memmove(l->pin, l->pin + w, l->pin_len - (size_t)w);
    l->pin_len -= (size_t)w;
  }
}

static int pin_append_locked(omnish_loop *l, const uint8_t *data, size_t len) {
  if (l->pin_len + len > l->pin_cap) {
    size_t cap = l->pin_cap ? l->pin_cap : 4096;
    while (cap < l->pin_len + len) cap *= 2;
    uint8_t *p = realloc(l->pin, cap);
    if (!p) return -1;
    l->pin = p;
    l->pin_cap = cap;
  }
  memcpy(l->pin + l->pin_len, data, len);
  l->pin_len += len;
  return 0;
}

static int may_divert(omnish_loop *l, uint8_t first) {
  return l->opts.prefix_byte && first == l->opts.prefix_byte && atomic_load(&l->phase) == PHASE_INPUT &&
         !atomic_load(&l->alt) && atomic_load(&l->line_empty) && omnish_loop_shell_in_foreground(l);
}

/* The terminal's size: fd 1's, else fd 0's (0 when neither is a terminal). */
static int terminal_size(const omnish_loop *l, struct winsize *ws) {
  return (ioctl(l->out_fd, TIOCGWINSZ, ws) == 0 && ws->ws_col != 0) || (ioctl(l->in_fd, TIOCGWINSZ, ws) == 0 && ws->ws_col != 0)
             ? 0
             : -1;
}

/* A Resize frame for the queue (NULL when out of memory). */
static omnish_qitem *resize_item(uint64_t t_us, unsigned cols, unsigned rows) {
  omnish_qitem *it = calloc(1, sizeof *it + OMNISH_RESIZE_FRAME_MAX);
  if (!it) return NULL;
  it->frame = (uint8_t *)(it + 1);
  it->len = omnish_resize_frame(it->frame, t_us, cols, rows);
  return it;
}

int omnish_loop_follow_size(omnish_loop *l, unsigned short *cols, unsigned short *rows) {
  struct winsize term, pty;
  if (terminal_size(l, &term) != 0) return 0;
  *cols = term.ws_col;
  *rows = term.ws_row;
  if (ioctl(l->master, TIOCGWINSZ, &pty) == 0 && term.ws_col == pty.ws_col && term.ws_row == pty.ws_row) return 0;
  ioctl(l->master, TIOCSWINSZ, &term); /* the kernel sends SIGWINCH to the pty's foreground */
  uint8_t frame[OMNISH_RESIZE_FRAME_MAX];
  size_t n = omnish_resize_frame(frame, omnish_loop_now_us(l), term.ws_col, term.ws_row);
  pthread_mutex_lock(&l->mu);
  int finishing = l->finishing;
  pthread_mutex_unlock(&l->mu);
  if (!finishing) omnish_loop_send(l, frame, n); /* after SessionEnd, no more frames */
  return 1;
}

/*
 * Keys typed after a resize must reach a program that already sees the new size, but SIGWINCH
 * reaches JavaScript later than the keys reach this thread (much later while its event loop is
 * busy, loading the recorder say). The kernel sets the terminal's size before it signals, so two
 * ioctls per keystroke chunk keep the order, and the thread records the Resize itself, ahead of
 * the output that follows it.
 */
static void follow_window_size(omnish_loop *l) {
  struct winsize term, pty;
  if (terminal_size(l, &term) != 0 || ioctl(l->master, TIOCGWINSZ, &pty) != 0) return;
  if (term.ws_col == pty.ws_col && term.ws_row == pty.ws_row) return;
  ioctl(l->master, TIOCSWINSZ, &term);
  pthread_mutex_lock(&l->mu);
  int finishing = l->finishing;
  pthread_mutex_unlock(&l->mu);
  if (finishing || !l->recording) return;
  omnish_qitem *it = resize_item(omnish_loop_now_us(l), term.ws_col, term.ws_row);
  if (!it) return;
  seal(l); /* the output read so far had the old size */
  queue_append(l, it);
  update_queued(l);
}

static void read_input(omnish_loop *l) {
  uint8_t buf[4096];
  ssize_t n = read(l->in_fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {
    l->term_gone = 1;
    emit(l, event_new(OMNISH_EV_TERMINAL_GONE));
    return;
  }
  atomic_fetch_add(&l->in_bytes, (unsigned long long)n);
  follow_window_size(l);
  /* Before the keys reach the pty (or the interceptor): the echo state that applies is the one now. */
  record_keys(l, buf, (size_t)n);
  if (l->diverted || may_divert(l, buf[0])) {
    omnish_event *ev = event_new(OMNISH_EV_INPUT);
    if (ev && (ev->data = malloc((size_t)n))) {
      memcpy(ev->data, buf, (size_t)n);
      ev->len = (size_t)n;
      l->diverted = 1;
      l->div_posted++;
      emit(l, ev);
      return;
    }
    omnish_event_free(ev); /* out of memory: the keys go to the shell */
  }
  atomic_store(&l->line_empty, 0);
  pthread_mutex_lock(&l->mu);
  pin_append_locked(l, buf, (size_t)n);
  write_input_locked(l);
  pthread_mutex_unlock(&l->mu);
}

/* ---- requests from JavaScript ---- */

static void take_requests(omnish_loop *l) {
  pthread_mutex_lock(&l->mu);
  omnish_qitem *frames = l->in_head;
  l->in_head = l->in_tail = NULL;
  int outlet_req = l->outlet_req, outlet_fd = l->outlet_fd_req;
  l->outlet_req = 0;
  if (l->resume_req) {
    l->resume_req = 0;
    /* Keys posted after the ones JavaScript has seen are still on their way there: stay diverted. */
    if (l->resume_seq == l->div_posted) {
      l->diverted = 0;
      atomic_store(&l->line_empty, l->resume_line_empty);
    }
  }
  int pause = l->pause_req, unpause = l->unpause_req, discard = l->discard_req;
  l->pause_req = l->unpause_req = l->discard_req = 0;
  int finishing = l->finishing;
  pthread_mutex_unlock(&l->mu);

  if (outlet_req) {
    close_outlet(l);
    l->outlet = outlet_fd;
  }
  if (discard) recording_off(l, NULL);
  if (pause && !l->paused && l->recording) {
    seal(l);
    l->paused = 1;
    l->paused_since_us = omnish_loop_now_us(l);
    l->paused_bytes = 0;
  }
  if (unpause && l->paused) {
    l->paused = 0;
    omnish_qitem *gap = gap_item(l->paused_since_us, l->paused_bytes, l->opts.pause_reason);
    if (gap) queue_append(l, gap);
  }
  if (frames) {
    seal(l); /* what was read before comes first */
    size_t moved = 0;
    for (omnish_qitem *it = frames; it;) {
      omnish_qitem *next = it->next;
      moved += it->len;
      if (l->recording) queue_append(l, it);
      else free(it);
      it = next;
    }
    update_queued(l);
    atomic_fetch_sub(&l->incoming, moved); /* counted twice for a moment, never not at all */
  }
  if (finishing && !l->finished_io) {
    l->finished_io = 1;
    if (!l->output_ended) write_held(l);
    seal(l);
  }
  update_queued(l);
}

static void drain_wake(omnish_loop *l) {
  char buf[64];
  while (read(l->wake[0], buf, sizeof buf) > 0) {
  }
}

static int stopping(omnish_loop *l) {
  pthread_mutex_lock(&l->mu);
  int s = l->stopping;
  pthread_mutex_unlock(&l->mu);
  return s;
}

static void *loop_main(void *arg) {
  omnish_loop *l = arg;
  for (;;) {
    take_requests(l);
    if (stopping(l)) break;
    struct pollfd pf[4];
    int n = 0, i_master = -1, i_in = -1, i_out = -1;
    pf[n++] = (struct pollfd){.fd = l->wake[0], .events = POLLIN};
    pthread_mutex_lock(&l->mu);
    size_t pending_in = l->pin_len;
    pthread_mutex_unlock(&l->mu);
    short mev = 0;
    if (!l->output_ended && !l->finished_io) mev |= POLLIN;
    if (pending_in > 0 && !l->output_ended) mev |= POLLOUT;
    if (mev) {
      i_master = n;
      pf[n++] = (struct pollfd){.fd = l->master, .events = mev};
    }
    if (!l->term_gone && !l->finished_io && pending_in < PENDING_INPUT_MAX) {
      i_in = n;
      pf[n++] = (struct pollfd){.fd = l->in_fd, .events = POLLIN};
    }
    if (l->outlet >= 0 && l->q_head) {
      i_out = n;
      pf[n++] = (struct pollfd){.fd = l->outlet, .events = POLLOUT};
    }
    int timeout = -1;
    if (l->batch_len > 0) {
      uint64_t now = mono_ns();
      timeout = now >= l->batch_deadline_ns ? 0 : (int)((l->batch_deadline_ns - now + 999999u) / 1000000u);
    }
    int rc = poll(pf, (nfds_t)n, timeout);
    if (rc < 0 && errno != EINTR) break;
    if (rc > 0 && pf[0].revents) drain_wake(l);
    if (rc > 0 && i_master >= 0 && (pf[i_master].revents & (POLLIN | POLLHUP | POLLERR))) read_output(l);
    if (rc > 0 && i_master >= 0 && (pf[i_master].revents & POLLOUT)) {
      pthread_mutex_lock(&l->mu);
      write_input_locked(l);
      pthread_mutex_unlock(&l->mu);
    }
    if (rc > 0 && i_in >= 0 && (pf[i_in].revents & (POLLIN | POLLHUP | POLLERR))) read_input(l);
    if (l->batch_len > 0 && mono_ns() >= l->batch_deadline_ns) seal(l);
    if (l->outlet >= 0 && l->q_head) write_queue(l);
    (void)i_out;
  }
  atomic_store(&l->thread_done, 1);
  return NULL;
}

/* ---- the shell's end ---- */

static void *waiter_main(void *arg) {
  omnish_loop *l = arg;
  int status = 0;
  pid_t r;
  do r = waitpid(l->pid, &status, 0);
  while (r < 0 && errno == EINTR);
  omnish_event *ev = event_new(OMNISH_EV_EXIT);
  if (!ev) return NULL;
  if (r < 0) ev->a = 1; /* not our child any more: nothing better to say */
  else if (WIFSIGNALED(status)) ev->b = WTERMSIG(status);
  else ev->a = WEXITSTATUS(status);
  emit(l, ev);
  return NULL;
}

/* ---- start, requests, stop ---- */

int omnish_loop_start(omnish_loop *l, int master, pid_t pid, const omnish_loop_opts *opts, omnish_emit_fn emit_fn,
                      void *ctx, char *err, size_t errlen) {
  memset(l, 0, sizeof *l);
  l->in_fd = 0;
  l->out_fd = 1;
  l->master = master;
  l->pid = pid;
  l->opts = *opts;
  l->emit = emit_fn;
  l->emit_ctx = ctx;
  l->outlet = -1;
  l->recording = opts->record;
  l->origin_ns = mono_ns();
  pthread_mutex_init(&l->mu, NULL);
  pthread_mutex_init(&l->term_mu, NULL);
  if (pipe(l->wake) != 0) {
    snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
    return -1;
  }
  for (int i = 0; i < 2; i++) {
    fcntl(l->wake[i], F_SETFD, FD_CLOEXEC);
    fcntl(l->wake[i], F_SETFL, fcntl(l->wake[i], F_GETFL) | O_NONBLOCK);
  }
  if (opts->nonce && !(l->marks = omnish_marks_new(opts->nonce))) {
    snprintf(err, errlen, "the session's nonce is not usable in marks");
    return -1;
  }
  l->prompt = malloc(PROMPT_MAX);
  l->strip_cap = opts->strip_marks ? opts->batch_bytes + OMNISH_MAX_OSC_BYTES + 64 : 0;
  if (l->strip_cap && !(l->strip_buf = malloc(l->strip_cap))) l->strip_cap = 0;
  if (!l->prompt || batch_alloc(l) != 0 || (opts->strip_marks && !l->strip_buf)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  /* The loop polls fd 0; a blocking read after a spurious wake-up must not stall it. */
  if (pthread_create(&l->waiter, NULL, waiter_main, l) != 0) {
    snprintf(err, errlen, "cannot start a thread");
    return -1;
  }
  pthread_detach(l->waiter);
  if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
    snprintf(err, errlen, "cannot start a thread");
    return -1;
  }
  l->started = 1;
  return 0;
}

void omnish_loop_send(omnish_loop *l, const uint8_t *frame, size_t len) {
  omnish_qitem *it = calloc(1, sizeof *it + len);
  if (!it) return;
  it->frame = (uint8_t *)(it + 1);
  memcpy(it->frame, frame, len);
  it->len = len;
  pthread_mutex_lock(&l->mu);
  atomic_fetch_add(&l->incoming, len);
  if (l->in_tail) l->in_tail->next = it;
  else l->in_head = it;
  l->in_tail = it;
  pthread_mutex_unlock(&l->mu);
  wake(l);
}

void omnish_loop_forward(omnish_loop *l, const uint8_t *data, size_t len) {
  pthread_mutex_lock(&l->mu);
  pin_append_locked(l, data, len);
  write_input_locked(l);
  pthread_mutex_unlock(&l->mu);
  wake(l);
}

void omnish_loop_set_outlet(omnish_loop *l, int fd) {
  pthread_mutex_lock(&l->mu);
  if (l->outlet_req && l->outlet_fd_req >= 0) close(l->outlet_fd_req); /* superseded before the loop took it */
  l->outlet_req = 1;
  l->outlet_fd_req = fd;
  pthread_mutex_unlock(&l->mu);
  wake(l);
}

void omnish_loop_resume_input(omnish_loop *l, uint64_t seq, int line_empty) {
  pthread_mutex_lock(&l->mu);
  l->resume_req = 1;
  l->resume_seq = seq;
  l->resume_line_empty = line_empty;
  pthread_mutex_unlock(&l->mu);
  wake(l);
}

#define REQUEST(name, field)            \
  void name(omnish_loop *l) {           \
    pthread_mutex_lock(&l->mu);         \
    l->field = 1;                       \
    pthread_mutex_unlock(&l->mu);       \
    wake(l);                            \
  }
REQUEST(omnish_loop_pause, pause_req)
REQUEST(omnish_loop_unpause, unpause_req)
REQUEST(omnish_loop_discard, discard_req)
REQUEST(omnish_loop_finish, finishing)

void omnish_loop_stop(omnish_loop *l) {
  if (!l->started) return;
  l->started = 0;
  pthread_mutex_lock(&l->mu);
  l->stopping = 1;
  pthread_mutex_unlock(&l->mu);
  wake(l);
  pthread_join(l->thread, NULL);
  close_outlet(l);
  close(l->master);
  close(l->wake[0]);
  close(l->wake[1]);
  free_queue(l);
  for (omnish_qitem *it = l->in_head; it;) {
    omnish_qitem *next = it->next;
    free(it);
    it = next;
  }
  l->in_head = l->in_tail = NULL;
  free(l->batch_mem);
  free(l->pin);
  free(l->prompt);
  free(l->strip_buf);
  l->batch_mem = l->pin = l->prompt = l->strip_buf = NULL;
  omnish_marks_free(l->marks);
  l->marks = NULL;
}
