/*
 * The relay loop (loop.c): plain POSIX C, no Node-API (relay.c is its JavaScript binding).
 *
 * One thread polls the user's terminal (fd 0), the pty master, the daemon connection and a wake
 * pipe. Output goes from the master straight to fd 1 and, batched, to the daemon as IoData frames
 * (frames.h); keystrokes go straight to the master, except that at an empty prompt a chunk that
 * starts with the first byte of the `::` prefix is diverted to JavaScript until it hands control
 * back. The master is read until EIO, so the end of the output is never lost. Everything the
 * thread holds for the daemon is bounded (cap_bytes); output over the cap becomes a Gap. With
 * record_input, keystrokes the pty would show join the same queue as input frames, in time order.
 *
 * Shared state is guarded by `mu` (requests from JavaScript) and `term_mu` (writes to fd 1, so
 * JavaScript's writes are ordered with the relay's). The thread never holds `mu` while it blocks.
 */
#ifndef OMNISH_LOOP_H
#define OMNISH_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include "marks.h"

/** What the thread tells JavaScript; each is posted once, in order. */
enum omnish_event_type {
  /** One of this session's marks (A B C D E P); B carries the prompt's bytes (A..B) in data2. */
  OMNISH_EV_MARK = 1,
  /** Keystrokes diverted to JavaScript (the `::` interceptor). */
  OMNISH_EV_INPUT,
  /** The master hit EIO: every byte of output is on the terminal and queued. */
  OMNISH_EV_OUTPUT_END,
  /** The shell ended: a = exit code, b = signal number (0 when it exited). */
  OMNISH_EV_EXIT,
  /** A write to the daemon connection failed (msg says why); the connection is dropped. */
  OMNISH_EV_OUTLET_CLOSED,
  /** The user's terminal hung up (EOF or EIO on fd 0). */
  OMNISH_EV_TERMINAL_GONE,
  /** The recording stopped because memory ran out (msg). */
  OMNISH_EV_FAULT,
};

typedef struct omnish_event {
  enum omnish_event_type type;
  char kind;
  uint64_t start, end;
  uint8_t *data;
  size_t len;
  uint8_t *data2;
  size_t len2;
  int a, b;
  char msg[160];
} omnish_event;

/** A frame waiting for the daemon connection. */
typedef struct omnish_qitem {
  struct omnish_qitem *next;
  /** The frame's bytes, how many, how many already written. */
  uint8_t *frame;
  size_t len, off;
  /** A Gap is encoded when the writer reaches it, so a growing one can still count more bytes. */
  int is_gap, encoded;
  uint64_t gap_t, gap_lost;
  const char *gap_reason;
  /** Output bytes in the frame (IoData), for the stats. */
  size_t output_bytes;
  /** Input bytes in the frame (an input IoData), for SessionStart.sentBytes. */
  size_t input_bytes;
} omnish_qitem;

typedef struct omnish_loop omnish_loop;

/** Called from the loop's threads for each event; the callee owns `ev` (free with omnish_event_free). */
typedef void (*omnish_emit_fn)(void *ctx, omnish_event *ev);

typedef struct {
  /** The nonce of the session's marks; NULL: no shell integration (no prompt tracking, no `::`). */
  const char *nonce;
  int strip_marks;
  /** First byte of the command prefix (0: no interception). */
  uint8_t prefix_byte;
  /** Recording: cap on held bytes, batch size (bytes) and age (ms); reasons of the Gaps. */
  size_t cap_bytes, batch_bytes;
  int batch_ms;
  const char *cap_reason, *pause_reason;
  /** Record at all (off: nothing is queued). */
  int record;
  /**
   * Record keystrokes too (IoData input frames), but only those the pty would show: read while
   * the pty echoes (termios ECHO), or at the shell's own prompt (its line editor echoes). Keys
   * read with echo off anywhere else are never copied: one Gap of 0 bytes with `hidden_reason`
   * marks each such stretch (docs/native.md, "Input recording").
   */
  int record_input;
  const char *hidden_reason;
} omnish_loop_opts;

struct omnish_loop {
  /* fixed at start */
  int in_fd, out_fd, master, wake[2];
  pid_t pid;
  uint64_t origin_ns;
  omnish_loop_opts opts;
  omnish_marks *marks;
  omnish_emit_fn emit;
  void *emit_ctx;
  pthread_t thread, waiter;
  int started;

  /* requests from JavaScript, under mu */
  pthread_mutex_t mu;
  omnish_qitem *in_head, *in_tail;
  uint8_t *pin;
  size_t pin_len, pin_cap;
  int outlet_req, outlet_fd_req;
  int resume_req, resume_line_empty;
  uint64_t resume_seq;
  int pause_req, unpause_req, discard_req;
  int finishing, stopping;

  /* thread-only */
  omnish_qitem *q_head, *q_tail;
  size_t q_bytes;
  uint8_t *batch_mem;
  size_t batch_len;
  uint64_t batch_t_us, batch_deadline_ns;
  int outlet;
  int dropping, recording;
  int paused;
  uint64_t paused_since_us, paused_bytes;
  int input_hidden; /* in a stretch of keys read with echo off: its marker is queued */
  int output_ended, term_gone, finished_io;
  int diverted;
  uint64_t div_posted;
  uint8_t *prompt;
  size_t prompt_len;
  int capturing;
  uint8_t *strip_buf;
  size_t strip_cap;

  /* read by JavaScript */
  pthread_mutex_t term_mu;
  atomic_int phase; /* 0 unknown, 1 prompt, 2 input, 3 running */
  atomic_int alt, line_empty;
  atomic_size_t queued;   /* bytes held for the daemon: queue + open batch */
  atomic_size_t incoming; /* bytes of frames handed over by JavaScript, not yet queued */
  atomic_ullong out_bytes, in_bytes, lost_bytes, frames;
  atomic_ullong in_recorded; /* keystroke bytes queued as input records (never the hidden ones) */
  /* output and input bytes and gap lost bytes of the frames sent whole (SessionStart.sentBytes) */
  atomic_ullong sent_bytes;
  atomic_int thread_done;
};

/**
 * Starts the loop and the thread that waits for the shell (`pid`, on `master`). Takes ownership
 * of `master`. Returns 0, or -1 with `err` set.
 */
int omnish_loop_start(omnish_loop *l, int master, pid_t pid, const omnish_loop_opts *opts, omnish_emit_fn emit,
                      void *ctx, char *err, size_t errlen);

/** µs since the loop started (CLOCK_MONOTONIC): the session's clock for every record. */
uint64_t omnish_loop_now_us(const omnish_loop *l);

/**
 * Gives the pty the terminal's size if it differs (the kernel then signals SIGWINCH to the pty's
 * foreground) and queues a Resize frame for it, unless the session is finishing. From any thread.
 * Sets `cols`/`rows` to the terminal's size when it has one. Returns 1 if the size changed.
 */
int omnish_loop_follow_size(omnish_loop *l, unsigned short *cols, unsigned short *rows);

/** Requests, from any thread; each wakes the loop. */
void omnish_loop_send(omnish_loop *l, const uint8_t *frame, size_t len);
void omnish_loop_forward(omnish_loop *l, const uint8_t *data, size_t len);
void omnish_loop_set_outlet(omnish_loop *l, int fd);
void omnish_loop_resume_input(omnish_loop *l, uint64_t seq, int line_empty);
void omnish_loop_pause(omnish_loop *l);
void omnish_loop_unpause(omnish_loop *l);
void omnish_loop_discard(omnish_loop *l);
void omnish_loop_finish(omnish_loop *l);

/** Writes to fd 1, ordered with the relay's output. */
void omnish_loop_write_terminal(omnish_loop *l, const uint8_t *data, size_t len);

/** True when the pty's foreground process group is the shell's. */
int omnish_loop_shell_in_foreground(const omnish_loop *l);

/** Stops the thread, closes the master (SIGHUP for what still runs on the pty) and frees the loop's buffers. */
void omnish_loop_stop(omnish_loop *l);

void omnish_event_free(omnish_event *ev);

#endif
