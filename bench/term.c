/*
 * term: the benchmark's terminal. A reader that is never the bottleneck, so the bench measures the
 * relay and not itself (a node-pty reader in Node drained ~56 MB/s where this one drains ~115 MB/s).
 *
 * It opens a pty pair, forks PROG on the slave side as the session leader with the slave as its
 * controlling tty, then runs STEPs in order against the master, then reads the master until EOF/EIO
 * (every holder of the slave closed it), reaps PROG and prints one JSON object on stdout:
 *
 *   term [-c COLS] [-r ROWS] [-t TIMEOUT_MS] [-o FILE] STEP... -- PROG [ARG...]
 *
 *   -o FILE  also write every byte read from the master to FILE (created or truncated), so a test
 *            can compare what the terminal got with what was recorded (test/load/); one write(2)
 *            per read, so the reader stays far faster than a relay
 *   -w STR   wait until STR appears in the output read from now on, or after the previous needle if
 *            that came in the same read (timed since spawn)
 *   -s STR   send STR to PROG (argv bytes as they are: pass "\r", "\x15" as real control bytes)
 *   -f STR   like -w, but EOF before STR is not an error: its absence shows in "waits" (a relay
 *            that drops the tail of the output is measured, not aborted)
 *   -m       mark: "since mark" figures (bytes, µs to EOF/exit/waits, PROG's CPU) count from here
 *   -q MS    read until no output arrived for MS ms (at most 2000 ms)
 *   -e N     keystroke echo: N measured keys (after 10 warm-up keys), one printable character at a
 *            time, timed from write(2) until it comes back; Ctrl-U every 50 keys; quiet 3 ms between
 *
 * The hot path is one blocking read(2) of up to 64 KiB and a memmem of the pending -w needle; a
 * timeout is a SIGALRM that interrupts the read, so there is no poll(2) per chunk. Times are
 * CLOCK_MONOTONIC, in µs. CPU figures for PROG:
 *   selfCpuUs      PROG's own user+system time (its threads included), from /proc/PID/stat, read
 *                  while PROG is a zombie (waitid WNOWAIT), at clock-tick resolution (10 ms);
 *   childrenCpuUs  the CPU of the children PROG waited for (cutime+cstime), same resolution;
 *   rusageCpuUs    wait4's rusage of PROG and its waited-for descendants, in µs;
 *   markSelfCpuUs, markChildrenCpuUs  the first two as they were at the mark (-1 without one).
 * readerCpuUs is this program's own CPU, to show it stayed far from saturating a core.
 *
 * Exit status 0 when every step succeeded and EOF came; 2 for bad usage; 1 after a timeout or an
 * error (the JSON then has "error" and PROG's process group was killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_WAITS 16
#define MAX_NEEDLE 256
#define ECHO_WARMUP 10

static int master = -1;
static pid_t child = -1;
static int64_t spawn_us;
static int64_t mark_us;
static int64_t mark_self_cpu = -1, mark_children_cpu = -1;
static uint64_t total_bytes;
static uint64_t mark_bytes;
static volatile sig_atomic_t alarmed;
static int timed_out; /* a read was cut by the timeout (alarmed is reset by the next arm) */
static volatile sig_atomic_t child_exited;
static volatile int64_t exit_us = -1;
static char buf[BUF_SIZE];
static int timeout_ms = 120000;
/** -o: where every byte read also goes, or -1; out_failed is set when a write to it failed. */
static int out_fd = -1;
static int out_failed;

struct wait_hit {
  const char *needle;
  int64_t us;         /* since spawn */
  int64_t since_mark; /* since the mark, or -1 before it */
  uint64_t bytes;     /* total bytes read when it arrived */
};
static struct wait_hit waits[MAX_WAITS];
static int nwaits;

static int64_t *echo_samples;
static int echo_count;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_alarm(int sig) {
  (void)sig;
  alarmed = 1;
}

static void on_child(int sig) {
  (void)sig;
  if (!child_exited) {
    child_exited = 1;
    exit_us = now_us();
  }
}

/* Arms the timeout: the next blocking read is interrupted after ms. 0 disarms. */
static void arm(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  alarmed = 0;
  setitimer(ITIMER_REAL, &it, NULL);
}

/* Prints a JSON string (bytes as they are, control and non-ASCII bytes escaped). */
static void json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static char last_out[200];
static size_t last_len;

/* Keeps the last bytes read, for the error message of a timeout. */
static void keep_tail(const char *p, size_t n) {
  if (n >= sizeof last_out) {
    memcpy(last_out, p + n - sizeof last_out, sizeof last_out);
    last_len = sizeof last_out;
    return;
  }
  if (last_len + n > sizeof last_out) {
    size_t drop = last_len + n - sizeof last_out;
    memmove(last_out, last_out + drop, last_len - drop);
    last_len -= drop;
  }
  memcpy(last_out + last_len, p, n);
  last_len += n;
}

/*
 * One read of the master. Returns bytes read, 0 at EOF/EIO, -1 on timeout (alarmed) or another
 * error. EIO is how Linux reports that the last holder of the slave closed it.
 */
static ssize_t read_master(void) {
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) {
      total_bytes += (uint64_t)n;
      if (out_fd >= 0 && !out_failed) {
        for (ssize_t done = 0; done < n;) {
          ssize_t w = write(out_fd, buf + done, (size_t)(n - done));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) {
            out_failed = 1;
            break;
          }
          done += w;
        }
      }
      return n;
    }
    if (n == 0 || errno == EIO) return 0;
    if (errno == EINTR && !alarmed) continue;
    if (errno == EINTR) timed_out = 1;
    return -1;
  }
}

/*
 * What followed the last needle found in its chunk: the next wait searches it first, so two needles
 * that arrive in one read are both found (a prompt mark right after a command's end marker).
 */
static char rest[BUF_SIZE];
static size_t rest_len;

/* Notes a hit of the current wait. */
static void hit_wait(const char *needle, int64_t t) {
  if (nwaits < MAX_WAITS) {
    waits[nwaits].needle = needle;
    waits[nwaits].us = t - spawn_us;
    waits[nwaits].since_mark = mark_us ? t - mark_us : -1;
    waits[nwaits].bytes = total_bytes;
    nwaits++;
  }
}

/* Keeps chunk[from, n) as what follows a hit. */
static void keep_rest(const char *chunk, size_t from, size_t n) {
  rest_len = from < n ? n - from : 0;
  memmove(rest, chunk + from, rest_len);
}

/* Reads until `needle` arrives (searching across chunk boundaries). Returns 0, or -1 on timeout/EOF. */
static int wait_for(const char *needle) {
  size_t len = strlen(needle);
  char carry[2 * MAX_NEEDLE];
  size_t carried = 0;
  if (rest_len > 0) {
    char *h = memmem(rest, rest_len, needle, len);
    if (h) {
      hit_wait(needle, now_us());
      keep_rest(rest, (size_t)(h - rest) + len, rest_len);
      return 0;
    }
    carried = rest_len < len - 1 ? rest_len : len - 1;
    memcpy(carry, rest + rest_len - carried, carried);
    rest_len = 0;
  }
  arm(timeout_ms);
  for (;;) {
    ssize_t n = read_master();
    if (n <= 0) {
      arm(0);
      return -1;
    }
    int64_t t = now_us();
    keep_tail(buf, (size_t)n);
    /* A needle split across reads: the carried tail of the stream followed by this chunk's head. */
    size_t head = (size_t)n < len - 1 ? (size_t)n : len - 1;
    memcpy(carry + carried, buf, head);
    char *across = carried > 0 ? memmem(carry, carried + head, needle, len) : NULL;
    char *inside = across ? NULL : memmem(buf, (size_t)n, needle, len);
    if (across || inside) {
      arm(0);
      hit_wait(needle, t);
      /* Where the needle ends in this chunk; what follows is for the next wait. */
      size_t end = across ? (size_t)(across - carry) + len - carried : (size_t)(inside - buf) + len;
      keep_rest(buf, end, (size_t)n);
      return 0;
    }
    /* Keep the last len-1 bytes of the stream (carry + this chunk) for the next boundary search. */
    size_t keep = len - 1;
    if ((size_t)n >= keep) {
      memcpy(carry, buf + n - keep, keep);
      carried = keep;
    } else {
      size_t total = carried + (size_t)n; /* the chunk was copied after the carry above */
      size_t drop = total > keep ? total - keep : 0;
      memmove(carry, carry + drop, total - drop);
      carried = total - drop;
    }
  }
}

/* Reads until no output arrived for quiet_ms (at most max_ms in all). Returns -1 at EOF. */
static int settle(int quiet_ms, int max_ms) {
  int64_t end = now_us() + (int64_t)max_ms * 1000;
  for (;;) {
    int64_t left = (end - now_us()) / 1000;
    if (left <= 0) return 0;
    struct pollfd pfd = {master, POLLIN, 0};
    int r = poll(&pfd, 1, quiet_ms < left ? quiet_ms : (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    ssize_t n = read_master();
    if (n <= 0) return -1;
    keep_tail(buf, (size_t)n);
  }
}

static int send_all(const char *s, size_t len) {
  while (len > 0) {
    ssize_t n = write(master, s, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    s += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Keystroke echo round trips: one key, read until it comes back, let both sides go idle. */
static int echo_test(int keys) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
  echo_samples = calloc((size_t)keys, sizeof *echo_samples);
  if (!echo_samples) return -1;
  for (int i = 0; i < ECHO_WARMUP + keys; i++) {
    if (i > 0 && i % 50 == 0) {
      if (send_all("\x15", 1) < 0 || settle(20, 1000) < 0) return -1;
    }
    char key = letters[i % 26];
    int64_t t0 = now_us();
    if (send_all(&key, 1) < 0) return -1;
    arm(5000);
    for (;;) {
      ssize_t n = read_master();
      if (n <= 0) {
        arm(0);
        return -1;
      }
      keep_tail(buf, (size_t)n);
      if (memchr(buf, key, (size_t)n)) break;
    }
    int64_t t1 = now_us();
    arm(0);
    if (i >= ECHO_WARMUP) echo_samples[echo_count++] = t1 - t0;
    if (settle(3, 200) < 0) return -1;
  }
  if (send_all("\x15", 1) < 0) return -1;
  return settle(20, 1000);
}

/* user+system CPU of PID itself and of its waited-for children, in µs, from /proc/PID/stat. */
static void proc_cpu(pid_t pid, int64_t *self, int64_t *children) {
  char path[64], stat[4096];
  *self = *children = -1;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = 0;
  char *p = strrchr(stat, ')');
  if (!p) return;
  unsigned long long f[20] = {0};
  /* After ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime cutime cstime */
  char state;
  if (sscanf(p + 2, "%c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &state, &f[0], &f[1],
             &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12], &f[13]) != 15)
    return;
  long hz = sysconf(_SC_CLK_TCK);
  *self = (int64_t)((f[10] + f[11]) * 1000000ULL / (unsigned long long)hz);
  *children = (int64_t)((f[12] + f[13]) * 1000000ULL / (unsigned long long)hz);
}

static void usage(void) {
  fprintf(stderr, "usage: term [-c COLS] [-r ROWS] [-t TIMEOUT_MS] [-o FILE] [-w STR|-f STR|-s STR|-m|-q MS|-e N]... -- PROG [ARG...]\n");
  exit(2);
}

/* Forks PROG on the slave side: its own session, the slave as controlling tty and stdio. */
static void spawn(char **argv, int cols, int rows) {
  master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
    perror("term: pty");
    exit(1);
  }
  char *slave_name = ptsname(master);
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  ioctl(master, TIOCSWINSZ, &ws);
  spawn_us = now_us();
  child = fork();
  if (child < 0) {
    perror("term: fork");
    exit(1);
  }
  if (child == 0) {
    signal(SIGCHLD, SIG_DFL);
    setsid();
    int slave = open(slave_name, O_RDWR);
    if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
      perror("term: slave");
      _exit(127);
    }
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
    close(master);
    execvp(argv[0], argv);
    fprintf(stderr, "term: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
}

int main(int argc, char **argv) {
  int cols = 120, rows = 40, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (i + 1 >= argc) usage();
    if (!strcmp(argv[i], "-c")) cols = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-r")) rows = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-t")) timeout_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-o")) {
      out_fd = open(argv[++i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (out_fd < 0) {
        fprintf(stderr, "term: %s: %s\n", argv[i], strerror(errno));
        exit(2);
      }
    } else break;
  }
  int steps = i, dashdash = i;
  while (dashdash < argc && strcmp(argv[dashdash], "--") != 0) dashdash++;
  if (dashdash + 1 >= argc) usage();
  /* Check the steps before anything is spawned, so bad usage leaves nothing running. */
  for (int k = steps; k < dashdash; k++) {
    if (!strcmp(argv[k], "-m")) continue;
    if (k + 1 >= dashdash || strlen(argv[k]) != 2 || argv[k][0] != '-' || !strchr("wfsqe", argv[k][1])) usage();
    size_t len = strlen(argv[++k]);
    if ((argv[k - 1][1] == 'w' || argv[k - 1][1] == 'f') && (len == 0 || len > MAX_NEEDLE)) usage();
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm must interrupt a blocking read */
  sigaction(SIGALRM, &sa, NULL);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);

  spawn(argv + dashdash + 1, cols, rows);

  const char *error = NULL;
  const char *failed_step = NULL;
  int eof_seen = 0; /* a -f step already read to EOF */
  for (i = steps; i < dashdash && !error && !eof_seen; i++) {
    const char *op = argv[i];
    const char *arg = argv[i + 1]; /* checked above */
    if (!strcmp(op, "-m")) {
      proc_cpu(child, &mark_self_cpu, &mark_children_cpu);
      mark_us = now_us();
      mark_bytes = total_bytes;
      continue;
    }
    i++;
    if (!strcmp(op, "-w")) {
      if (wait_for(arg) < 0) error = timed_out ? "timeout waiting" : "EOF while waiting", failed_step = arg;
    } else if (!strcmp(op, "-f")) {
      if (wait_for(arg) < 0) {
        if (timed_out) error = "timeout waiting", failed_step = arg;
        else eof_seen = 1;
      }
    } else if (!strcmp(op, "-s")) {
      if (send_all(arg, strlen(arg)) < 0) error = "write failed", failed_step = arg;
    } else if (!strcmp(op, "-q")) {
      if (settle(atoi(arg), 2000) < 0) error = "EOF while settling", failed_step = arg;
    } else if (!strcmp(op, "-e")) {
      if (echo_test(atoi(arg)) < 0) error = timed_out ? "echo timed out" : "EOF during echo test", failed_step = arg;
    }
  }

  /* Drain to EOF: the contender's last bytes count, and a relay that drops its tail shows up here. */
  int64_t eof_us = -1;
  if (eof_seen) eof_us = now_us();
  if (!error && !eof_seen) {
    arm(timeout_ms);
    for (;;) {
      ssize_t n = read_master();
      if (n == 0) {
        eof_us = now_us();
        break;
      }
      if (n < 0) {
        error = timed_out ? "timeout waiting for EOF" : "read failed";
        break;
      }
      keep_tail(buf, (size_t)n);
    }
    arm(0);
  }
  if (!error && out_failed) error = "write to the -o file failed";
  if (error) kill(-child, SIGKILL);

  /* Read PROG's own CPU while it is a zombie, then reap it with its rusage. */
  siginfo_t si;
  int64_t self_cpu = -1, children_cpu = -1;
  arm(error ? 5000 : timeout_ms);
  if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) == 0) proc_cpu(child, &self_cpu, &children_cpu);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  pid_t reaped = wait4(child, &status, 0, &ru);
  arm(0);
  if (reaped != child && !error) error = "child not reaped";
  if (exit_us < 0) exit_us = now_us();
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);

  int64_t base = mark_us ? mark_us : spawn_us;
  printf("{\"pid\":%d,\"bytes\":%llu,\"markBytes\":%llu,", (int)child, (unsigned long long)total_bytes,
         (unsigned long long)(total_bytes - mark_bytes));
  printf("\"eofUs\":%lld,\"exitUs\":%lld,", (long long)(eof_us < 0 ? -1 : eof_us - base), (long long)(exit_us - base));
  if (reaped == child && WIFEXITED(status)) printf("\"exitCode\":%d,\"signal\":null,", WEXITSTATUS(status));
  else if (reaped == child && WIFSIGNALED(status)) printf("\"exitCode\":null,\"signal\":%d,", WTERMSIG(status));
  else printf("\"exitCode\":null,\"signal\":null,");
  printf("\"selfCpuUs\":%lld,\"childrenCpuUs\":%lld,\"rusageCpuUs\":%lld,\"readerCpuUs\":%lld,\"markSelfCpuUs\":%lld,\"markChildrenCpuUs\":%lld,", (long long)self_cpu,
         (long long)children_cpu,
         (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec,
         (long long)(self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000 + self.ru_utime.tv_usec + self.ru_stime.tv_usec,
         (long long)mark_self_cpu, (long long)mark_children_cpu);
  printf("\"waits\":[");
  for (int w = 0; w < nwaits; w++) {
    printf("%s{\"needle\":", w ? "," : "");
    json_str(waits[w].needle);
    printf(",\"us\":%lld,\"sinceMarkUs\":%lld,\"bytes\":%llu}", (long long)waits[w].us, (long long)waits[w].since_mark,
           (unsigned long long)waits[w].bytes);
  }
  printf("],\"echoUs\":[");
  for (int e = 0; e < echo_count; e++) printf("%s%lld", e ? "," : "", (long long)echo_samples[e]);
  printf("],\"error\":");
  if (error) {
    char msg[600];
    char tail[sizeof last_out + 1];
    memcpy(tail, last_out, last_len);
    tail[last_len] = 0;
    snprintf(msg, sizeof msg, "%s%s%s; last output: %s", error, failed_step ? " for " : "", failed_step ? failed_step : "",
             tail);
    json_str(msg);
  } else {
    printf("null");
  }
  printf("}\n");
  return error ? 1 : 0;
}
