/* The JavaScript binding of marks.c (class MarkParser), for the tests that hold it to marks.ts. */
#ifndef OMNISH_MARKS_NAPI_H
#define OMNISH_MARKS_NAPI_H
#include <node_api.h>
napi_status marks_register(napi_env env, napi_value exports);
#endif
