/* See spawn.h. Between fork and execve only async-signal-safe calls: the parent is multithreaded. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *what, int code) {
  snprintf(err, errlen, "%s: %s", what, strerror(code));
  return -1;
}

static int open_pty(int *master, int *slave, char *err, size_t errlen) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  if (m < 0) return fail(err, errlen, "cannot open a pty", errno);
  char name[128];
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) {
    int e = errno;
    close(m);
    return fail(err, errlen, "cannot set up the pty", e);
  }
  int s = open(name, O_RDWR | O_NOCTTY);
  if (s < 0) {
    int e = errno;
    close(m);
    return fail(err, errlen, "cannot open the pty's terminal side", e);
  }
  fcntl(m, F_SETFD, FD_CLOEXEC);
  fcntl(s, F_SETFD, FD_CLOEXEC);
  *master = m;
  *slave = s;
  return 0;
}

/* The child: become the pty's session leader and exec. Reports errno on `report` if exec fails. */
static void child(const omnish_spawn_opts *o, int slave, int report) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  setsid();
  ioctl(slave, TIOCSCTTY, 0);
  dup2(slave, 0);
  dup2(slave, 1);
  dup2(slave, 2);
  if (slave > 2) close(slave);
  if (o->cwd && o->cwd[0]) (void)!chdir(o->cwd);
  execve(o->file, o->argv, o->envp);
  int e = errno;
  (void)!write(report, &e, sizeof e);
  _exit(127);
}

int omnish_spawn(const omnish_spawn_opts *o, int *master, pid_t *pid, char *err, size_t errlen) {
  int m, s;
  if (open_pty(&m, &s, err, errlen) != 0) return -1;
  if (o->termios) tcsetattr(s, TCSANOW, o->termios);
  struct winsize ws = {.ws_row = o->rows ? o->rows : 24, .ws_col = o->cols ? o->cols : 80};
  ioctl(s, TIOCSWINSZ, &ws);
  int report[2];
  if (pipe(report) != 0) {
    int e = errno;
    close(m);
    close(s);
    return fail(err, errlen, "cannot create a pipe", e);
  }
  fcntl(report[0], F_SETFD, FD_CLOEXEC);
  fcntl(report[1], F_SETFD, FD_CLOEXEC);
  pid_t p = fork();
  if (p < 0) {
    int e = errno;
    close(m);
    close(s);
    close(report[0]);
    close(report[1]);
    return fail(err, errlen, "cannot fork", e);
  }
  if (p == 0) {
    close(report[0]);
    child(o, s, report[1]);
  }
  close(report[1]);
  close(s);
  int code = 0;
  ssize_t n;
  do n = read(report[0], &code, sizeof code);
  while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == (ssize_t)sizeof code) {
    close(m);
    waitpid(p, NULL, 0);
    char what[512];
    snprintf(what, sizeof what, "cannot run %s", o->file);
    return fail(err, errlen, what, code);
  }
  fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
  *master = m;
  *pid = p;
  return 0;
}
