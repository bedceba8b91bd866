/*
 * The JavaScript class MarkParser over marks.c (NativeMarkParser in addon.ts), so that
 * test/native-marks.test.ts can hold the C parser to src/shell/marks.ts. Not on any hot path:
 * it copies freely. An event is {kind, start, offset, payload?}: kind 'A'..'P', 'alt-on' or
 * 'alt-off'; payload, the OSC payload as a latin1 string, for OSC marks only.
 */
#include "marks_napi.h"

#include <stdlib.h>
#include <string.h>

#include "marks.h"

/** Events of one call, built as the parser reports them; the first failure stops the rest. */
typedef struct {
  napi_env env;
  napi_value list;
  uint32_t count;
  napi_status status;
} events_ctx;

static napi_status set_double(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  napi_status st = napi_create_double(env, v, &x);
  return st == napi_ok ? napi_set_named_property(env, obj, name, x) : st;
}

static void on_mark(void *ctx, const omnish_mark *m, const uint8_t *payload, size_t len) {
  events_ctx *e = ctx;
  if (e->status != napi_ok) return;
  napi_env env = e->env;
  napi_value obj, kind, text;
  const char *name = m->kind == '1' ? "alt-on" : m->kind == '0' ? "alt-off" : &m->kind;
  size_t name_len = m->kind == '1' ? 6 : m->kind == '0' ? 7 : 1;
  napi_status st = napi_create_object(env, &obj);
  if (st == napi_ok) st = napi_create_string_latin1(env, name, name_len, &kind);
  if (st == napi_ok) st = napi_set_named_property(env, obj, "kind", kind);
  if (st == napi_ok) st = set_double(env, obj, "start", (double)m->start);
  if (st == napi_ok) st = set_double(env, obj, "offset", (double)m->end);
  if (st == napi_ok && payload != NULL) {
    st = napi_create_string_latin1(env, (const char *)payload, len, &text);
    if (st == napi_ok) st = napi_set_named_property(env, obj, "payload", text);
  }
  if (st == napi_ok) st = napi_set_element(env, e->list, e->count++, obj);
  e->status = st;
}

/** The parser behind `this` and the Uint8Array argument; NULL after throwing a TypeError. */
static omnish_marks *this_parser(napi_env env, napi_callback_info info, const uint8_t **data, size_t *len) {
  size_t argc = 1;
  napi_value argv[1], self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a MarkParser");
    return NULL;
  }
  if (data == NULL) return p;
  bool is_typed = false;
  napi_typedarray_type type;
  void *bytes = NULL;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, len, &bytes, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "chunk must be a Buffer or Uint8Array");
    return NULL;
  }
  *data = bytes;
  return p;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  omnish_marks_free(data);
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, target;
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == NULL) {
    napi_throw_type_error(env, NULL, "Class constructor MarkParser cannot be invoked without 'new'");
    return NULL;
  }
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, NULL, "nonce must be a string");
    return NULL;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) return NULL;
  char *nonce = malloc(len + 1);
  if (nonce == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], nonce, len + 1, &len);
  /* A NUL inside the string would hide what follows it from the C check. */
  int ok = strlen(nonce) == len && omnish_marks_valid_nonce(nonce);
  omnish_marks *p = ok ? omnish_marks_new(nonce) : NULL;
  free(nonce);
  if (!ok) {
    napi_throw_range_error(env, NULL, "nonce must be printable ASCII without ; or spaces");
    return NULL;
  }
  if (p == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_wrap(env, self, p, finalize, NULL, NULL) != napi_ok) {
    omnish_marks_free(p);
    return NULL;
  }
  return self;
}

static napi_value push(napi_env env, napi_callback_info info) {
  const uint8_t *data;
  size_t len;
  omnish_marks *p = this_parser(env, info, &data, &len);
  if (p == NULL) return NULL;
  events_ctx e = {env, NULL, 0, napi_ok};
  e.status = napi_create_array(env, &e.list);
  omnish_marks_push(p, data, len, on_mark, &e);
  return e.status == napi_ok ? e.list : NULL;
}

static napi_value push_and_strip(napi_env env, napi_callback_info info) {
  const uint8_t *data;
  size_t len;
  omnish_marks *p = this_parser(env, info, &data, &len);
  if (p == NULL) return NULL;
  uint8_t *out = malloc(len + omnish_marks_held(p) + 1);
  if (out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  events_ctx e = {env, NULL, 0, napi_ok};
  e.status = napi_create_array(env, &e.list);
  /* marks.h allows stripping in place when nothing is held; do so at even stream offsets, so the
   * tests cover both ways (the caller's chunk itself is never written to). */
  int in_place = omnish_marks_held(p) == 0 && omnish_marks_offset(p) % 2 == 0;
  if (in_place && len > 0) memcpy(out, data, len);
  size_t k = omnish_marks_strip(p, in_place ? out : data, len, out, on_mark, &e);
  napi_value result = NULL, output;
  napi_status st = e.status;
  if (st == napi_ok) st = napi_create_buffer_copy(env, k, out, NULL, &output);
  if (st == napi_ok) st = napi_create_object(env, &result);
  if (st == napi_ok) st = napi_set_named_property(env, result, "events", e.list);
  if (st == napi_ok) st = napi_set_named_property(env, result, "output", output);
  free(out);
  return st == napi_ok ? result : NULL;
}

static napi_value take_held(napi_env env, napi_callback_info info) {
  omnish_marks *p = this_parser(env, info, NULL, NULL);
  if (p == NULL) return NULL;
  void *data;
  napi_value buf;
  if (napi_create_buffer(env, omnish_marks_held(p), &data, &buf) != napi_ok) return NULL;
  omnish_marks_take_held(p, data);
  return buf;
}

static napi_value alt_screen(napi_env env, napi_callback_info info) {
  omnish_marks *p = this_parser(env, info, NULL, NULL);
  napi_value v;
  if (p == NULL || napi_get_boolean(env, omnish_marks_alt(p), &v) != napi_ok) return NULL;
  return v;
}

napi_status marks_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"push", NULL, push, NULL, NULL, NULL, napi_default, NULL},
      {"pushAndStrip", NULL, push_and_strip, NULL, NULL, NULL, napi_default, NULL},
      {"takeHeld", NULL, take_held, NULL, NULL, NULL, napi_default, NULL},
      {"altScreen", NULL, NULL, alt_screen, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_status st = napi_define_class(env, "MarkParser", NAPI_AUTO_LENGTH, construct, NULL,
                                     sizeof props / sizeof props[0], props, &cls);
  return st == napi_ok ? napi_set_named_property(env, exports, "MarkParser", cls) : st;
}
