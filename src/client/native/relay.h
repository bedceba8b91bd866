/* The relay (relay.c): spawn the shell in a new pty and run the loop in a thread of its own. */
#ifndef OMNISH_RELAY_H
#define OMNISH_RELAY_H
#include <node_api.h>
napi_status relay_register(napi_env env, napi_value exports);
#endif
