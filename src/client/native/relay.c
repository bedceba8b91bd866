/*
 * The relay's JavaScript binding: startRelay(options, onEvent) saves the user's termios, spawns
 * the shell in a new pty with those settings, puts the terminal in raw mode and starts the loop
 * (loop.c); the returned object is the loop's control surface. Events reach onEvent through a
 * thread-safe function, in order, a handful per command (never per output chunk). Shapes are
 * documented on the TypeScript side: src/client/native/addon.ts.
 */
#include "relay.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "frames.h"
#include "loop.h"
#include "spawn.h"

typedef struct {
  omnish_loop loop;
  napi_threadsafe_function tsfn;
  struct termios saved, raw;
  /* Freed when both the thread-safe function and the JavaScript object are finalized. */
  atomic_int refs;
  int closed;
} relay_t;

#define CHECK(call)                              \
  do {                                           \
    if ((call) != napi_ok) return NULL;          \
  } while (0)

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void unref_relay(relay_t *r) {
  if (atomic_fetch_sub(&r->refs, 1) == 1) free(r);
}

/* ---- events: loop threads -> JavaScript ---- */

static void set_str(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

static void set_num(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

static void set_buf(napi_env env, napi_value obj, const char *key, const uint8_t *data, size_t len) {
  napi_value v;
  void *dst;
  if (napi_create_buffer_copy(env, len, data, &dst, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

static const char *mark_kind(char k) {
  static char one[2];
  switch (k) {
    case 'A': return "A";
    case 'B': return "B";
    case 'C': return "C";
    case 'D': return "D";
    case 'E': return "E";
    case 'P': return "P";
    default: one[0] = k; one[1] = 0; return one;
  }
}

static void call_js(napi_env env, napi_value cb, void *context, void *data) {
  omnish_event *ev = data;
  if (env == NULL || cb == NULL) {
    omnish_event_free(ev);
    return;
  }
  napi_value obj, undefined, result;
  if (napi_create_object(env, &obj) != napi_ok) {
    omnish_event_free(ev);
    return;
  }
  switch (ev->type) {
    case OMNISH_EV_MARK:
      set_str(env, obj, "type", "mark");
      set_str(env, obj, "kind", mark_kind(ev->kind));
      set_num(env, obj, "start", (double)ev->start);
      set_num(env, obj, "offset", (double)ev->end);
      if (ev->data) {
        napi_value v;
        if (napi_create_string_latin1(env, (const char *)ev->data, ev->len, &v) == napi_ok)
          napi_set_named_property(env, obj, "payload", v);
      }
      if (ev->kind == 'B') set_buf(env, obj, "prompt", ev->data2 ? ev->data2 : (const uint8_t *)"", ev->len2);
      break;
    case OMNISH_EV_INPUT:
      set_str(env, obj, "type", "input");
      set_buf(env, obj, "data", ev->data, ev->len);
      break;
    case OMNISH_EV_OUTPUT_END:
      set_str(env, obj, "type", "outputEnd");
      break;
    case OMNISH_EV_EXIT:
      set_str(env, obj, "type", "exit");
      set_num(env, obj, "exitCode", ev->a);
      set_num(env, obj, "signal", ev->b);
      break;
    case OMNISH_EV_OUTLET_CLOSED:
      set_str(env, obj, "type", "outletClosed");
      set_str(env, obj, "message", ev->msg);
      break;
    case OMNISH_EV_TERMINAL_GONE:
      set_str(env, obj, "type", "terminalGone");
      break;
    case OMNISH_EV_FAULT:
      set_str(env, obj, "type", "fault");
      set_str(env, obj, "message", ev->msg);
      break;
  }
  omnish_event_free(ev);
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, cb, 1, &obj, &result);
  /* An exception in the callback stays pending and reaches process 'uncaughtException'. */
}

static void emit(void *ctx, omnish_event *ev) {
  relay_t *r = ctx;
  int exit_event = ev->type == OMNISH_EV_EXIT;
  if (napi_call_threadsafe_function(r->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) omnish_event_free(ev);
  /* The exit is the waiter thread's only and last event: its hold on the function ends here. */
  if (exit_event) napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) { unref_relay(data); }

/* ---- argument helpers ---- */

static relay_t *self(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data;
  if (napi_get_cb_info(env, info, argc, argv, NULL, &data) != napi_ok) return NULL;
  return data;
}

static char *get_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static char *prop_string(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_string)
    return NULL;
  return get_string(env, v);
}

static double prop_number(napi_env env, napi_value obj, const char *key, double fallback) {
  napi_value v;
  double d;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_get_value_double(env, v, &d) != napi_ok) return fallback;
  return d;
}

static int prop_bool(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  bool b = false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  return b;
}

/** A NULL-terminated copy of a string array property; NULL when it is not one. */
static char **prop_strings(napi_env env, napi_value obj, const char *key) {
  napi_value arr;
  uint32_t n;
  bool is_array = false;
  if (napi_get_named_property(env, obj, key, &arr) != napi_ok || napi_is_array(env, arr, &is_array) != napi_ok ||
      !is_array || napi_get_array_length(env, arr, &n) != napi_ok)
    return NULL;
  char **out = calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, arr, i, &v) != napi_ok || !(out[i] = get_string(env, v))) {
      for (uint32_t j = 0; j < i; j++) free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void free_strings(char **s) {
  if (!s) return;
  for (char **p = s; *p; p++) free(*p);
  free(s);
}

static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) == napi_ok && is_buf)
    return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok ? 0 : -1;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return -1;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) == napi_ok && type == napi_uint8_array
             ? 0
             : -1;
}

/* ---- the window size ---- */

static void window_size(unsigned short *cols, unsigned short *rows) {
  struct winsize ws = {0};
  if (ioctl(1, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) ioctl(0, TIOCGWINSZ, &ws);
  *cols = ws.ws_col ? ws.ws_col : 80;
  *rows = ws.ws_row ? ws.ws_row : 24;
}

static napi_value size_object(napi_env env, unsigned short cols, unsigned short rows) {
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_num(env, obj, "cols", cols);
  set_num(env, obj, "rows", rows);
  return obj;
}

/* ---- methods of the relay object ---- */

#define METHOD(name) static napi_value name(napi_env env, napi_callback_info info)
#define SELF(nargs)                                   \
  size_t argc = nargs;                                \
  napi_value argv[(nargs) > 0 ? (nargs) : 1];         \
  relay_t *r = self(env, info, &argc, argv);          \
  if (!r) return NULL;                                \
  (void)argv

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value boolean(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

static napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

METHOD(m_now_us) {
  SELF(0);
  return number(env, (double)omnish_loop_now_us(&r->loop));
}

/* Methods that hand bytes to the loop; after close() they do nothing. */
#define BYTES_METHOD(name, call)                                                   \
  METHOD(name) {                                                                   \
    SELF(1);                                                                       \
    uint8_t *data;                                                                 \
    size_t len;                                                                    \
    if (argc < 1 || get_bytes(env, argv[0], &data, &len) != 0)                     \
      return throw_error(env, #name ": expected a Buffer");                        \
    if (!r->closed && len > 0) call(&r->loop, data, len);                          \
    return undef(env);                                                             \
  }
BYTES_METHOD(m_send, omnish_loop_send)
BYTES_METHOD(m_forward, omnish_loop_forward)
BYTES_METHOD(m_write_terminal, omnish_loop_write_terminal)

METHOD(m_set_outlet) {
  SELF(1);
  int32_t fd = -1;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &fd);
  if (r->closed) return undef(env);
  int own = -1;
  if (fd >= 0 && (own = dup(fd)) < 0) return throw_error(env, "setOutlet: cannot duplicate the connection's fd");
  omnish_loop_set_outlet(&r->loop, own);
  return undef(env);
}

METHOD(m_resume_input) {
  SELF(2);
  double seq = 0;
  bool empty = false;
  if (argc >= 1) napi_get_value_double(env, argv[0], &seq);
  if (argc >= 2) napi_get_value_bool(env, argv[1], &empty);
  if (!r->closed) omnish_loop_resume_input(&r->loop, (uint64_t)seq, empty);
  return undef(env);
}

#define REQUEST_METHOD(name, call)           \
  METHOD(name) {                             \
    SELF(0);                                 \
    if (!r->closed) call(&r->loop);          \
    return undef(env);                       \
  }
REQUEST_METHOD(m_pause, omnish_loop_pause)
REQUEST_METHOD(m_unpause, omnish_loop_unpause)
REQUEST_METHOD(m_discard, omnish_loop_discard)
REQUEST_METHOD(m_finish, omnish_loop_finish)

METHOD(m_size) {
  SELF(0);
  unsigned short cols, rows;
  window_size(&cols, &rows);
  return size_object(env, cols, rows);
}

/* After SIGWINCH: the pty gets the terminal's size, and the recording a Resize (loop.c). */
METHOD(m_resize) {
  SELF(0);
  unsigned short cols, rows;
  window_size(&cols, &rows);
  if (!r->closed) omnish_loop_follow_size(&r->loop, &cols, &rows);
  return size_object(env, cols, rows);
}

METHOD(m_enter_raw) {
  SELF(0);
  tcsetattr(0, TCSANOW, &r->raw);
  return undef(env);
}

METHOD(m_restore) {
  SELF(0);
  /* TCSADRAIN: what was written raw goes out first; never TCSAFLUSH, which drops typed-ahead keys. */
  tcsetattr(0, TCSADRAIN, &r->saved);
  return undef(env);
}

METHOD(m_prompt_state) {
  SELF(0);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  static const char *phases[] = {"unknown", "prompt", "input", "running"};
  int phase = atomic_load(&r->loop.phase);
  set_str(env, obj, "phase", phases[phase & 3]);
  napi_set_named_property(env, obj, "altScreen", boolean(env, atomic_load(&r->loop.alt)));
  napi_set_named_property(env, obj, "lineEmpty", boolean(env, atomic_load(&r->loop.line_empty)));
  napi_set_named_property(env, obj, "shellInForeground", boolean(env, !r->closed && omnish_loop_shell_in_foreground(&r->loop)));
  return obj;
}

METHOD(m_pty_echo) {
  SELF(0);
  struct termios t;
  if (r->closed || tcgetattr(r->loop.master, &t) != 0) return boolean(env, 0);
  return boolean(env, (t.c_lflag & ECHO) != 0);
}

METHOD(m_kill) {
  SELF(1);
  int32_t sig = SIGHUP;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &sig);
  kill(r->loop.pid, sig);
  return undef(env);
}

METHOD(m_queued_bytes) {
  SELF(0);
  return number(env, (double)(atomic_load(&r->loop.queued) + atomic_load(&r->loop.incoming)));
}

METHOD(m_stats) {
  SELF(0);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_num(env, obj, "outputBytes", (double)atomic_load(&r->loop.out_bytes));
  set_num(env, obj, "inputBytes", (double)atomic_load(&r->loop.in_bytes));
  set_num(env, obj, "lostBytes", (double)atomic_load(&r->loop.lost_bytes));
  set_num(env, obj, "inputRecordedBytes", (double)atomic_load(&r->loop.in_recorded));
  set_num(env, obj, "frames", (double)atomic_load(&r->loop.frames));
  set_num(env, obj, "queuedBytes", (double)atomic_load(&r->loop.queued));
  set_num(env, obj, "sentBytes", (double)atomic_load(&r->loop.sent_bytes));
  return obj;
}

METHOD(m_close) {
  SELF(0);
  if (r->closed) return undef(env);
  r->closed = 1;
  omnish_loop_stop(&r->loop);
  napi_unref_threadsafe_function(env, r->tsfn);
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
  return undef(env);
}

static void object_finalize(napi_env env, void *data, void *hint) { unref_relay(data); }

/* ---- startRelay ---- */

typedef struct {
  char *file, *cwd, *nonce, *prefix, *cap_reason, *pause_reason, *hidden_reason;
  char **argv, **envp;
} start_args;

static void free_args(start_args *a) {
  free(a->file);
  free(a->cwd);
  free(a->nonce);
  free(a->prefix);
  free_strings(a->argv);
  free_strings(a->envp);
  /* cap_reason, pause_reason and hidden_reason stay: the loop points at them for its whole life. */
}

static void make_raw(struct termios *t) {
  /* cfmakeraw(3), spelled out: it is not in POSIX. */
  t->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t->c_oflag &= ~(tcflag_t)OPOST;
  t->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
  t->c_cflag |= CS8;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
}

static napi_value define_methods(napi_env env, relay_t *r) {
  napi_value obj, pid;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_int32(env, r->loop.pid, &pid));
#define M(js, fn) {js, NULL, fn, NULL, NULL, NULL, napi_default, r}
  napi_property_descriptor props[] = {
      {"pid", NULL, NULL, NULL, NULL, pid, napi_enumerable, NULL},
      M("nowUs", m_now_us), M("send", m_send), M("forward", m_forward), M("writeTerminal", m_write_terminal),
      M("setOutlet", m_set_outlet), M("resumeInput", m_resume_input), M("pauseRecording", m_pause),
      M("resumeRecording", m_unpause), M("discardRecording", m_discard), M("finish", m_finish),
      M("size", m_size), M("resize", m_resize), M("enterRaw", m_enter_raw), M("restore", m_restore),
      M("promptState", m_prompt_state), M("ptyEchoOn", m_pty_echo), M("kill", m_kill), M("queuedBytes", m_queued_bytes), M("stats", m_stats),
      M("close", m_close),
  };
#undef M
  CHECK(napi_define_properties(env, obj, sizeof props / sizeof props[0], props));
  atomic_fetch_add(&r->refs, 1);
  if (napi_wrap(env, obj, r, object_finalize, NULL, NULL) != napi_ok) {
    atomic_fetch_sub(&r->refs, 1);
    return NULL;
  }
  return obj;
}

static napi_value start_relay(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 2) {
    napi_typeof(env, argv[0], &t0);
    napi_typeof(env, argv[1], &t1);
  }
  if (t0 != napi_object || t1 != napi_function) return throw_error(env, "startRelay(options, onEvent): bad arguments");
  napi_value o = argv[0];
  start_args a = {0};
  a.file = prop_string(env, o, "file");
  a.cwd = prop_string(env, o, "cwd");
  a.nonce = prop_string(env, o, "nonce");
  a.prefix = prop_string(env, o, "commandPrefix");
  a.cap_reason = prop_string(env, o, "capReason");
  a.pause_reason = prop_string(env, o, "pauseReason");
  a.hidden_reason = prop_string(env, o, "hiddenReason");
  a.argv = prop_strings(env, o, "argv");
  a.envp = prop_strings(env, o, "env");
  int record_input = prop_bool(env, o, "recordInput");
  if (!a.file || !a.argv || !a.envp || !a.cap_reason || !a.pause_reason || (record_input && !a.hidden_reason)) {
    free_args(&a);
    return throw_error(env, "startRelay: options need file, argv, env, capReason and pauseReason (and hiddenReason with recordInput)");
  }
  relay_t *r = calloc(1, sizeof *r);
  if (!r) {
    free_args(&a);
    return throw_error(env, "startRelay: out of memory");
  }
  if (tcgetattr(0, &r->saved) != 0) {
    free_args(&a);
    free(r);
    return throw_error(env, "the terminal's settings cannot be read (is stdin a terminal?)");
  }
  struct termios pty_tio = r->saved;
#ifdef IUTF8
  if (prop_bool(env, o, "utf8")) pty_tio.c_iflag |= IUTF8;
#endif
  r->raw = r->saved;
  make_raw(&r->raw);
  unsigned short cols, rows;
  window_size(&cols, &rows);
  omnish_spawn_opts so = {.file = a.file, .argv = a.argv, .envp = a.envp, .cwd = a.cwd, .termios = &pty_tio, .cols = cols, .rows = rows};
  int master;
  pid_t pid;
  char err[600];
  if (omnish_spawn(&so, &master, &pid, err, sizeof err) != 0) {
    free_args(&a);
    free(r);
    return throw_error(env, err);
  }
  napi_value name;
  napi_create_string_utf8(env, "omnish relay", NAPI_AUTO_LENGTH, &name);
  /* Two holds: JavaScript's (until close()) and the waiter thread's (until the shell's exit). */
  atomic_store(&r->refs, 1);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 2, r, tsfn_finalize, NULL, call_js, &r->tsfn) != napi_ok) {
    kill(pid, SIGKILL);
    close(master);
    free_args(&a);
    free(r);
    return throw_error(env, "startRelay: cannot create the event channel");
  }
  double cap = prop_number(env, o, "capBytes", 8 << 20), batch = prop_number(env, o, "batchBytes", 64 << 10);
  if (batch < 16384) batch = 16384;
  if (batch > (1 << 20)) batch = 1 << 20;
  omnish_loop_opts lo = {
      .nonce = a.nonce,
      .strip_marks = prop_bool(env, o, "stripMarks"),
      .prefix_byte = a.prefix && a.prefix[0] ? (uint8_t)a.prefix[0] : 0,
      .cap_bytes = cap > 0 ? (size_t)cap : 0,
      .batch_bytes = (size_t)batch,
      .batch_ms = (int)prop_number(env, o, "batchMs", 5),
      .cap_reason = a.cap_reason,
      .pause_reason = a.pause_reason,
      .record = prop_bool(env, o, "record"),
      .record_input = record_input,
      .hidden_reason = a.hidden_reason,
  };
  /* Raw mode only now: a shell that cannot start leaves the terminal as it was. */
  tcsetattr(0, TCSANOW, &r->raw);
  if (omnish_loop_start(&r->loop, master, pid, &lo, emit, r, err, sizeof err) != 0) {
    tcsetattr(0, TCSADRAIN, &r->saved);
    kill(pid, SIGKILL); /* the waiter, if it started, reaps it and lets go of the channel */
    free_args(&a);
    if (!r->loop.waiter) napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
    return throw_error(env, err);
  }
  free_args(&a);
  return define_methods(env, r);
}

/* ---- the frame encoders, for the golden tests ---- */

static napi_value encode_iodata(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double t = 0;
  int32_t dir = OMNISH_DIR_OUTPUT;
  uint8_t *data;
  size_t len;
  if (argc < 2 || napi_get_value_double(env, argv[0], &t) != napi_ok || get_bytes(env, argv[1], &data, &len) != 0 ||
      (argc >= 3 && napi_get_value_int32(env, argv[2], &dir) != napi_ok) || (dir != OMNISH_DIR_OUTPUT && dir != OMNISH_DIR_INPUT))
    return throw_error(env, "encodeIoData(tUs, data, dir?)");
  uint8_t *buf = malloc(OMNISH_IODATA_PREFIX_MAX + len + 1);
  if (!buf) return throw_error(env, "out of memory");
  memcpy(buf + OMNISH_IODATA_PREFIX_MAX, data, len);
  uint8_t *start = omnish_iodata_prefix(buf + OMNISH_IODATA_PREFIX_MAX, dir, (uint64_t)t, len);
  napi_value out;
  void *dst;
  napi_status s = napi_create_buffer_copy(env, (size_t)(buf + OMNISH_IODATA_PREFIX_MAX + len - start), start, &dst, &out);
  free(buf);
  return s == napi_ok ? out : NULL;
}

static napi_value encode_gap(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double t = 0, lost = 0;
  char *reason;
  if (argc < 3 || napi_get_value_double(env, argv[0], &t) != napi_ok || napi_get_value_double(env, argv[1], &lost) != napi_ok ||
      !(reason = get_string(env, argv[2])))
    return throw_error(env, "encodeGap(tUs, lostBytes, reason)");
  uint8_t *buf = malloc(96 + strlen(reason));
  if (!buf) {
    free(reason);
    return throw_error(env, "out of memory");
  }
  size_t n = omnish_gap_frame(buf, (uint64_t)t, (uint64_t)lost, reason);
  free(reason);
  napi_value out;
  void *dst;
  napi_status s = napi_create_buffer_copy(env, n, buf, &dst, &out);
  free(buf);
  return s == napi_ok ? out : NULL;
}

static napi_value encode_resize(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double t = 0;
  uint32_t cols = 0, rows = 0;
  if (argc < 3 || napi_get_value_double(env, argv[0], &t) != napi_ok || napi_get_value_uint32(env, argv[1], &cols) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &rows) != napi_ok)
    return throw_error(env, "encodeResize(tUs, cols, rows)");
  uint8_t buf[OMNISH_RESIZE_FRAME_MAX];
  size_t n = omnish_resize_frame(buf, (uint64_t)t, cols, rows);
  napi_value out;
  void *dst;
  return napi_create_buffer_copy(env, n, buf, &dst, &out) == napi_ok ? out : NULL;
}

napi_status relay_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"startRelay", NULL, start_relay, NULL, NULL, NULL, napi_default, NULL},
      {"encodeIoData", NULL, encode_iodata, NULL, NULL, NULL, napi_default, NULL},
      {"encodeGap", NULL, encode_gap, NULL, NULL, NULL, napi_default, NULL},
      {"encodeResize", NULL, encode_resize, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
