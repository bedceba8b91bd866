/*
 * The frames the relay thread writes itself, byte for byte as src/protocol/frame.ts encodes them
 * (encodeFrame with msgpackr: plain MessagePack maps, keys in schema order, the smallest integer
 * form, integers above 2^32 - 1 as float64): IoData (output, and input when it is recorded) and
 * Gap. A frame is the 7-byte header (magic 0x4f4d, u32 BE payload length, u8 type) and the
 * payload. Also Resize, since the thread records a new window size in order with the output it
 * applies to. Held to encodeFrame by test/native-frames.test.ts.
 */
#ifndef OMNISH_FRAMES_H
#define OMNISH_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/** Bytes of the frame header plus the IoData map up to the data's bytes, at most. */
#define OMNISH_IODATA_PREFIX_MAX 40

/** IoData directions (src/protocol IoDir). */
#define OMNISH_DIR_OUTPUT 0
#define OMNISH_DIR_INPUT 1

/**
 * Writes the header and payload prefix of an IoData frame (`dir`: OMNISH_DIR_*) carrying `len`
 * data bytes at `t_us` so that it ends exactly at `end` (the data follows it in memory): returns
 * the first byte. `end` must have OMNISH_IODATA_PREFIX_MAX bytes of room before it.
 */
uint8_t *omnish_iodata_prefix(uint8_t *end, int dir, uint64_t t_us, size_t len);

/**
 * Encodes a whole Gap frame {tUs, lostBytes, reason} into `out` (room: 64 + strlen(reason)).
 * Returns the frame's length.
 */
size_t omnish_gap_frame(uint8_t *out, uint64_t t_us, uint64_t lost_bytes, const char *reason);

/** Bytes a Resize frame takes, at most. */
#define OMNISH_RESIZE_FRAME_MAX 40

/** Encodes a whole Resize frame {tUs, cols, rows} into `out` (room: OMNISH_RESIZE_FRAME_MAX). Returns its length. */
size_t omnish_resize_frame(uint8_t *out, uint64_t t_us, unsigned cols, unsigned rows);

#endif
