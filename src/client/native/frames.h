/*
 * The frames the relay thread writes itself, byte for byte as src/protocol/frame.ts encodes them
 * (encodeFrame with msgpackr: plain MessagePack maps, keys in schema order, the smallest integer
 * form, integers above 2^32 - 1 as float64): IoData (output) and Gap. A frame is the 7-byte header
 * (magic 0x4f4d, u32 BE payload length, u8 type) and the payload. Held to encodeFrame by
 * test/native-frames.test.ts.
 */
#ifndef OMNISH_FRAMES_H
#define OMNISH_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/** Bytes of the frame header plus the IoData map up to the data's bytes, at most. */
#define OMNISH_IODATA_PREFIX_MAX 40

/**
 * Writes the header and payload prefix of an output IoData frame carrying `len` data bytes at
 * `t_us` so that it ends exactly at `end` (the data follows it in memory): returns the first byte.
 * `end` must have OMNISH_IODATA_PREFIX_MAX bytes of room before it.
 */
uint8_t *omnish_iodata_prefix(uint8_t *end, uint64_t t_us, size_t len);

/**
 * Encodes a whole Gap frame {tUs, lostBytes, reason} into `out` (room: 64 + strlen(reason)).
 * Returns the frame's length.
 */
size_t omnish_gap_frame(uint8_t *out, uint64_t t_us, uint64_t lost_bytes, const char *reason);

#endif
