/*
 * omnish's native addon (Node-API, C): module registration only. The relay is in relay.c, the
 * shell-integration mark parser in marks.c (with its JavaScript binding for tests in marks_napi.c).
 */
#include <node_api.h>

#include "marks_napi.h"
#include "relay.h"

static napi_value init(napi_env env, napi_value exports) {
  if (relay_register(env, exports) != napi_ok) return NULL;
  if (marks_register(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
