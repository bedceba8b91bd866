# The native relay (issue 12): a Node-API addon in C, built by node-gyp. Node-API only, so one
# build runs on every Node version from 20 on. Sources live in src/client/native/.
{
  "targets": [
    {
      "target_name": "omnish_relay",
      "sources": [
        "src/client/native/addon.c",
        "src/client/native/frames.c",
        "src/client/native/loop.c",
        "src/client/native/marks.c",
        "src/client/native/marks_napi.c",
        "src/client/native/relay.c",
        "src/client/native/spawn.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-lpthread"]
    }
  ]
}
