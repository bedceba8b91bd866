/*
 * Starting the shell in a new pty (what forkpty(3) does, plus the user's termios): the master
 * comes back non-blocking and close-on-exec; the child is a session leader with the pty as its
 * controlling terminal, default signal dispositions and an empty signal mask (Node ignores SIGPIPE,
 * and an ignored disposition survives execve).
 */
#ifndef OMNISH_SPAWN_H
#define OMNISH_SPAWN_H

#include <sys/types.h>
#include <termios.h>

typedef struct {
  /** Path of the program, argv (NULL-terminated, argv[0] may be "-bash" for a login shell), envp. */
  const char *file;
  char *const *argv;
  char *const *envp;
  /** Working directory; the child stays where it is when it cannot change to it. */
  const char *cwd;
  /** Settings for the new pty (the user's terminal's, made by the caller), or NULL for the kernel's. */
  const struct termios *termios;
  unsigned short cols, rows;
} omnish_spawn_opts;

/**
 * Spawns `o->file` in a new pty. On success returns 0 and sets the master fd and the child's pid.
 * On failure returns -1 and writes one line saying what failed to `err` (the exec's own errno
 * included: "cannot run /bin/nosuch: No such file or directory").
 */
int omnish_spawn(const omnish_spawn_opts *o, int *master, pid_t *pid, char *err, size_t errlen);

#endif
