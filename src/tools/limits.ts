/** Caps the tools share with the commands that show the same things. */

/** Most output rendered, bytes (its tail): a headless terminal holds every line, ~1 KiB per line of 80 cells. */
export const MAX_RENDER_BYTES = 4 * 1024 * 1024;
