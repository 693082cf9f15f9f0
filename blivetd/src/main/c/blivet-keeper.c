/*
 * blivet-keeper: the parent of blivetd's JVM (docs/architecture.md, "Custody").
 *
 *   blivet-keeper [--backoff-max=MS] -- java [JVM options] dev.blivet.daemon.Main [blivetd options]
 *
 * A JVM can die (kill -9, out of memory, a crash, an upgrade); its jobs must not lose their
 * parent with it, because only a parent learns a process's exit status on every kernel. So this
 * small program is a child subreaper and starts the JVM as its child: when the JVM dies, the
 * kernel reparents the JVM's jobs to us, and we reap each one and write its exit status where
 * the next JVM reads it. While a JVM lives it is itself a subreaper, and its jobs' parent.
 *
 * Mechanism only: no JSON, no job, no policy beyond restarting the JVM with a capped backoff.
 * One thread, one blocking poll on a signalfd and the link: nothing wakes us while all is quiet.
 *
 * The JVM, at execve (fd numbers below):
 *   3  the listening control socket, once we hold one (ours from systemd, or the first JVM's),
 *      with LISTEN_FDS=1 and LISTEN_PID=<the JVM's pid>, exactly as systemd hands sockets over
 *   4  its end of the link (a SOCK_SEQPACKET socketpair), named by BLIVET_KEEPER_FD=4
 *   WATCHDOG_PID=<the JVM's pid> when WATCHDOG_USEC is set, so the JVM may feed systemd's watchdog.
 *   PR_SET_PDEATHSIG(SIGKILL): a killed keeper takes its JVM along, so a new keeper never finds
 *   a JVM it would duplicate. The jobs live on: the kernel reparents them to init (or to the
 *   next subreaper up), a new blivetd re-adopts them by pid, and their exit statuses are known
 *   only where the kernel has PIDFD_INFO_EXIT (Linux 6.15).
 *
 * The link carries messages of one byte (MSG_* below), NOTIFY alone with more after it. The JVM sends REGISTER once it serves, with
 * two fds (SCM_RIGHTS): its listening socket and the exits directory (O_DIRECTORY, root-only,
 * the JVM made it). We keep both for every later JVM and answer ACCEPTED. STOPPING: the JVM is
 * going down on purpose (a SIGTERM however it reached it): when it exits, so do we, with its
 * status. REEXEC: it exits without stopping its jobs, start the next JVM now. REPLACE: exec a
 * new keeper (as SIGUSR2). NOTIFY: the rest of the message is for systemd ($NOTIFY_SOCKET),
 * and we send it on as it is. We are the unit's main process and the JVM is not, so the unit can
 * take notifications from its main process alone (NotifyAccess=main): the jobs, which run in the
 * unit's cgroup, could otherwise tell systemd STOPPING=1 or WATCHDOG=trigger in blivetd's name.
 * We send EXITS after writing exit records.
 *
 * Exit records, one file per reaped child that a dead JVM left us (its jobs: take_orphans; a job's
 * own orphaned children are reaped without one), written through the directory fd
 * (never a path): "<pid>.<starttime>", holding "<pid> <starttime> <waitstatus>\n", starttime
 * being field 22 of /proc/PID/stat read while the child is a zombie (waitid WNOWAIT), so a
 * record names one process and never a later one with the same pid. Written under a temporary
 * name and renamed, so a reader never sees half a record.
 *
 * The JVM's death: its children, now ours, are listed (take_orphans); every dead child is reaped, then the next JVM starts after
 * 0 ms the first time, then 100 ms doubling up to the cap (--backoff-max, BACKOFF_MAX_MS unless
 * given), back to 0 once a JVM has run 60 s. The cap is an option because what it trades (how
 * long jobs go unsupervised after the next crash against the CPU a crash loop burns) is the
 * operator's call, and a test that kills JVMs on purpose needs no wait between them; the reset
 * rule is not: a JVM that served a few seconds then died says nothing about the next one, so
 * only a minute of uptime earns an immediate restart again.
 * A JVM that dies before the first registration ever is a start-up failure (a bad option, the
 * socket taken): we exit with its status rather than loop. A clean stop (SIGTERM or SIGINT
 * forwarded, or STOPPING) ends us with the JVM's status: its code, or 128 + its signal. The
 * signal waits until the JVM has registered (it then has its handlers and has re-adopted its
 * jobs, which it stops); a second one goes through at once.
 *
 * Replacing ourselves (SIGUSR2, or REPLACE): execve of our own binary's path as it was at start
 * (after a package upgrade, the new file), else of the file we started from (/proc/self/exe,
 * held open), with our state on the command line (--resume key=value,...). The pid stays, and
 * with it every child; the signal mask survives execve, so no signal is lost meanwhile.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

enum { JVM_LISTEN_FD = 3, JVM_LINK_FD = 4 };
enum {
    MSG_REGISTER = 'R', MSG_STOPPING = 'S', MSG_REEXEC = 'X', MSG_REPLACE = 'K', MSG_NOTIFY = 'N', /* from the JVM */
    MSG_ACCEPTED = 'A', MSG_EXITS = 'E',                                        /* to the JVM */
};
enum { BACKOFF_FIRST_MS = 100, BACKOFF_MAX_MS = 10000, BACKOFF_LIMIT_MS = 3600000, STABLE_MS = 60000 };
enum { EXIT_USAGE = 64, EXIT_OSERR = 71 };
enum { NOTIFY_MAX = 4096 }; /* the longest notification relayed; KeeperLink.NOTIFY_MAX */

static const char *const STRIPPED_ENV[] = {
    "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "BLIVET_KEEPER_FD=", "BLIVET_KEEPER_NOTIFY=", "WATCHDOG_PID=",
};

struct keeper {
    char **jvm_argv;
    pid_t jvm;              /* 0: none runs */
    int link;               /* our end of the current JVM's link; -1 */
    int listen_fd;          /* the control socket we hand to each JVM; -1 until we have one */
    int exits_dir;          /* -1 until the first registration */
    int exe;                /* our binary as started, for fexecve */
    char exe_path[PATH_MAX];
    bool registered;        /* some JVM ever registered: its death is no start-up failure */
    bool serving;           /* the current JVM registered: it has its signal handlers */
    bool stopping;          /* a clean stop was asked: the JVM's exit is ours */
    bool reexec;            /* the JVM asked to be replaced: no backoff */
    int stop_signal;        /* to forward once the JVM registers (asked while none ran); 0 none */
    long long jvm_started;  /* ms, CLOCK_MONOTONIC (system-wide, so it survives our execve) */
    long long restart_at;   /* ms; -1: no restart pending */
    int backoff;            /* ms, the delay after the next crash but one */
    int backoff_max;        /* ms, the cap (--backoff-max) */
    int notify;             /* a datagram socket to $NOTIFY_SOCKET; -1: not under systemd */
    struct sockaddr_un notify_addr;
    socklen_t notify_len;
    bool notify_failed;     /* said once, until a notification gets through */
    long long watchdog_ms;  /* half of systemd's WatchdogSec= for us; 0: no watchdog */
    long long watchdog_at;  /* ms: our next WATCHDOG=1 while no JVM runs */
    struct orphan { pid_t pid; unsigned long long start; } *orphans; /* see take_orphans */
    size_t n_orphans, cap_orphans;
};

/* ---- small things ---- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char line[512];
    int n = snprintf(line, sizeof line, "blivet-keeper[%d]: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : m >= (int)(sizeof line - (size_t)n - 1) ? sizeof line - (size_t)n - 2 : (size_t)m);
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) return; /* nowhere better to say it */
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_cloexec(int fd, bool on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Digits only, no sign, no overflow past INT_MAX (or LLONG_MAX for the wide one). */
static bool parse_ll(const char *s, long long max, long long *out) {
    long long v = 0;
    if (*s == '\0') return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_OSERR;
}

/* ---- systemd ---- */

/* $NOTIFY_SOCKET: a path, or '@' and a name in the abstract namespace (sd_notify(3)). */
static void open_notify(struct keeper *k) {
    const char *name = getenv("NOTIFY_SOCKET");
    k->notify = -1;
    if (!name || !*name) return;
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof k->notify_addr.sun_path) {
        say("NOTIFY_SOCKET=%s is not a socket path or @name that fits: systemd is not told of blivetd's state", name);
        return;
    }
    memset(&k->notify_addr, 0, sizeof k->notify_addr);
    k->notify_addr.sun_family = AF_UNIX;
    memcpy(k->notify_addr.sun_path, name, len);
    if (name[0] == '@') k->notify_addr.sun_path[0] = '\0';
    k->notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
    k->notify = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (k->notify < 0) say("cannot open a socket to systemd: %s", strerror(errno));
}

/* Nonblocking: a systemd that does not read costs a lost notification, never a stuck keeper. */
static void tell_systemd(struct keeper *k, const char *message, size_t len) {
    if (k->notify < 0) return;
    if (sendto(k->notify, message, len, MSG_NOSIGNAL, (const struct sockaddr *)&k->notify_addr, k->notify_len)
            == (ssize_t)len) {
        k->notify_failed = false;
    } else if (!k->notify_failed) {
        k->notify_failed = true;
        say("cannot tell systemd (NOTIFY_SOCKET): %s; said once until a notification gets through", strerror(errno));
    }
}

/*
 * systemd's watchdog (WATCHDOG_USEC, for our pid): the JVM pings it from its supervisor's loop, but
 * while no JVM runs (a restart's backoff, up to --backoff-max) nobody would, and systemd would kill
 * us and orphan every job. So we ping while a restart waits; a JVM that hangs once started is
 * still caught.
 */
static void open_watchdog(struct keeper *k) {
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    long long v, for_pid;
    k->watchdog_ms = 0;
    if (!usec || !parse_ll(usec, LLONG_MAX, &v) || v < 2000) return;
    if (pid && (!parse_ll(pid, INT_MAX, &for_pid) || for_pid != getpid())) return;
    k->watchdog_ms = v / 2000;
}

static void feed_watchdog(struct keeper *k) {
    if (k->watchdog_ms == 0 || k->jvm || k->restart_at < 0) return;
    long long now = now_ms();
    if (now < k->watchdog_at) return;
    tell_systemd(k, "WATCHDOG=1", 10);
    k->watchdog_at = now + k->watchdog_ms;
}

/* ---- the link ---- */

static void send_byte(struct keeper *k, char message) {
    /* Nonblocking: a full link already holds a wake-up the JVM has not read. */
    if (k->link >= 0) send(k->link, &message, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static bool is_type(int fd, mode_t type) {
    struct stat st;
    return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static void replace_self(struct keeper *k);

static void registered(struct keeper *k, int listen_fd, int exits_dir) {
    if (!is_type(listen_fd, S_IFSOCK) || !is_type(exits_dir, S_IFDIR)) {
        say("ignored a registration: expected a socket and a directory");
        close(listen_fd);
        close(exits_dir);
        return;
    }
    close_fd(&k->listen_fd);
    close_fd(&k->exits_dir);
    k->listen_fd = listen_fd;
    k->exits_dir = exits_dir;
    k->registered = true;
    k->serving = true;
    send_byte(k, MSG_ACCEPTED);
    if (k->stop_signal) {
        kill(k->jvm, k->stop_signal);
        k->stop_signal = 0;
    }
}

/* Every message waiting on the link; EOF closes our end (the JVM is gone or going). */
static void read_link(struct keeper *k) {
    while (k->link >= 0) {
        char buf[1 + NOTIFY_MAX];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr align; } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof control.buf };
        ssize_t n = recvmsg(k->link, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            close_fd(&k->link);
            return;
        }
        char message = buf[0];
        int fds[2] = { -1, -1 };
        size_t nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (nfds < 2) fds[nfds++] = fd;
                else close(fd);
            }
        }
        if (message == MSG_REGISTER && nfds == 2 && !(msg.msg_flags & MSG_CTRUNC)) {
            registered(k, fds[0], fds[1]);
            continue;
        }
        for (size_t i = 0; i < nfds; i++) close(fds[i]);
        if (message == MSG_NOTIFY && !(msg.msg_flags & MSG_TRUNC)) tell_systemd(k, buf + 1, (size_t)n - 1);
        else if (message == MSG_NOTIFY) say("ignored a notification longer than %d bytes", NOTIFY_MAX);
        else if (n != 1) say("ignored link message 0x%02x of %zd bytes", (unsigned char)message, n);
        else if (message == MSG_STOPPING) k->stopping = true;
        else if (message == MSG_REEXEC) k->reexec = true;
        else if (message == MSG_REPLACE) replace_self(k);
        else say("ignored link message 0x%02x", (unsigned char)message);
    }
}

/* ---- the JVM ---- */

static char listen_pid_env[32], watchdog_pid_env[32];

/* Our environment without what describes our own fds; then what describes the JVM's. */
static char **jvm_environment(const struct keeper *k) {
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 6, sizeof *env);
    if (!env) return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool strip = false;
        for (size_t s = 0; s < sizeof STRIPPED_ENV / sizeof *STRIPPED_ENV; s++)
            strip |= strncmp(environ[i], STRIPPED_ENV[s], strlen(STRIPPED_ENV[s])) == 0;
        if (!strip) env[m++] = environ[i];
    }
    env[m++] = "BLIVET_KEEPER_FD=4";
    /* We relay notifications (MSG_NOTIFY): a JVM told nothing, under an older keeper, sends its own. */
    env[m++] = "BLIVET_KEEPER_NOTIFY=1";
    if (k->listen_fd >= 0) {
        env[m++] = "LISTEN_FDS=1";
        env[m++] = listen_pid_env; /* filled in by the child, which alone knows its pid */
    }
    if (getenv("WATCHDOG_USEC")) env[m++] = watchdog_pid_env;
    env[m] = NULL;
    return env;
}

__attribute__((noreturn))
static void exec_jvm(const struct keeper *k, int link_end, char **env, pid_t keeper) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != keeper) _exit(EXIT_OSERR); /* the keeper died already */
    /* Copies above 4 first (close-on-exec), so neither dup2 overwrites the other's source. */
    int link_copy = fcntl(link_end, F_DUPFD_CLOEXEC, JVM_LINK_FD + 1);
    int listen_copy = k->listen_fd >= 0 ? fcntl(k->listen_fd, F_DUPFD_CLOEXEC, JVM_LINK_FD + 1) : -1;
    if (link_copy < 0 || (k->listen_fd >= 0 && listen_copy < 0)) _exit(EXIT_OSERR);
    if (dup2(link_copy, JVM_LINK_FD) < 0) _exit(EXIT_OSERR);
    if (listen_copy >= 0 && dup2(listen_copy, JVM_LISTEN_FD) < 0) _exit(EXIT_OSERR);
    snprintf(listen_pid_env, sizeof listen_pid_env, "LISTEN_PID=%d", (int)getpid());
    snprintf(watchdog_pid_env, sizeof watchdog_pid_env, "WATCHDOG_PID=%d", (int)getpid());
    execvpe(k->jvm_argv[0], k->jvm_argv, env);
    say("cannot run %s: %s", k->jvm_argv[0], strerror(errno));
    _exit(127);
}

static void start_jvm(struct keeper *k) {
    k->restart_at = -1;
    k->reexec = false;
    k->serving = false;
    int pair[2];
    char **env = jvm_environment(k);
    if (!env || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        say("cannot start the JVM: %s; trying again in %d ms", strerror(errno), BACKOFF_MAX_MS);
        free(env);
        k->restart_at = now_ms() + BACKOFF_MAX_MS;
        return;
    }
    pid_t keeper = getpid();
    pid_t pid = fork();
    if (pid == 0) exec_jvm(k, pair[1], env, keeper);
    free(env);
    close(pair[1]);
    if (pid < 0) {
        say("cannot fork the JVM: %s; trying again in %d ms", strerror(errno), BACKOFF_MAX_MS);
        close(pair[0]);
        k->restart_at = now_ms() + BACKOFF_MAX_MS;
        return;
    }
    k->jvm = pid;
    k->link = pair[0];
    k->jvm_started = now_ms();
    say("started the JVM, pid %d", (int)pid);
}

__attribute__((noreturn))
static void finish(int code) {
    say("exiting with status %d", code);
    exit(code);
}

static void jvm_exited(struct keeper *k, int status) {
    read_link(k); /* what it said before dying decides what its death means */
    close_fd(&k->link);
    k->jvm = 0;
    int code = exit_code_of(status);
    if (k->stopping) finish(code);
    if (!k->registered) {
        say("the JVM exited (status %d) before it ever served: a start-up failure, not restarted", code);
        finish(code);
    }
    long long now = now_ms();
    if (k->reexec) {
        say("the JVM exited for a re-exec: starting the new one");
        k->restart_at = now;
        return;
    }
    if (now - k->jvm_started >= STABLE_MS) k->backoff = 0;
    k->restart_at = now + k->backoff;
    char why[128];
    snprintf(why, sizeof why, "the JVM died (%s %d): restarting it in %d ms", WIFSIGNALED(status) ? "signal" : "exit",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), k->backoff);
    say("%s", why);
    /* What systemctl status shows until the next JVM serves and says its job counts. */
    char status_line[160];
    int len = snprintf(status_line, sizeof status_line, "STATUS=%s; the jobs keep running", why);
    if (len > 0) tell_systemd(k, status_line, len < (int)sizeof status_line ? (size_t)len : sizeof status_line - 1);
    int next = k->backoff == 0 ? BACKOFF_FIRST_MS : k->backoff * 2; /* at most 2 x BACKOFF_LIMIT_MS: no overflow */
    k->backoff = next > k->backoff_max ? k->backoff_max : next;
}

/* ---- orphans: reaped and recorded ---- */

/* Field n (3 or more) of /proc/PID/stat as a number: 4 is the parent's pid, 22 the start time in
 * clock ticks since boot; 0 if unknown. */
static unsigned long long stat_field(pid_t pid, int n) {
    char path[32], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) return 0;
    buf[got] = '\0';
    char *field = strrchr(buf, ')'); /* the command name (field 2) may hold spaces and ')' */
    if (!field) return 0;
    for (int i = 2; i < n && field; i++) field = strchr(field + 1, ' ');
    return field ? strtoull(field + 1, NULL, 10) : 0;
}

static unsigned long long start_time(pid_t pid) {
    return stat_field(pid, 22);
}

static void record_exit(struct keeper *k, pid_t pid, unsigned long long start, int status) {
    if (k->exits_dir < 0) {
        say("pid %d exited (status %d) before any JVM gave us an exits directory: not recorded", (int)pid, status);
        return;
    }
    char name[64], temporary[72], line[96];
    snprintf(name, sizeof name, "%d.%llu", (int)pid, start);
    snprintf(temporary, sizeof temporary, ".%s.tmp", name);
    int len = snprintf(line, sizeof line, "%d %llu %d\n", (int)pid, start, status);
    int fd = openat(k->exits_dir, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool written = fd >= 0 && write(fd, line, (size_t)len) == len;
    if (fd >= 0) close(fd);
    if (!written || renameat(k->exits_dir, temporary, k->exits_dir, name) != 0) {
        say("cannot record the exit of pid %d (status %d): %s", (int)pid, status, strerror(errno));
        unlinkat(k->exits_dir, temporary, 0);
        return;
    }
    send_byte(k, MSG_EXITS);
}

/*
 * The processes a dead JVM left us: its jobs (and any helper caught mid-start), which the next JVM
 * re-adopts and whose exits it must learn. Only these get exit records. Whatever else comes to us
 * later (a job's own children, orphaned when their parent dies, as many as a job cares to fork)
 * is reaped without a record: a record nobody reads would be a file in /run per fork.
 * Called when a JVM is found dead, before any other child is reaped (the kernel reparents a dying
 * process's children before its parent can see it dead), and after we replaced ourselves.
 */
static void take_orphans(struct keeper *k) {
    DIR *proc = opendir("/proc");
    if (!proc) {
        say("cannot read /proc (%s): exits of the JVM's jobs may go unrecorded", strerror(errno));
        return;
    }
    pid_t self = getpid();
    for (struct dirent *entry; (entry = readdir(proc)) != NULL;) {
        long long v;
        if (!parse_ll(entry->d_name, INT_MAX, &v) || (pid_t)v == k->jvm || (pid_t)stat_field((pid_t)v, 4) != self) continue;
        bool known = false;
        for (size_t i = 0; i < k->n_orphans && !known; i++) known = k->orphans[i].pid == (pid_t)v;
        if (known) continue;
        if (k->n_orphans == k->cap_orphans) {
            size_t cap = k->cap_orphans ? 2 * k->cap_orphans : 64;
            struct orphan *grown = realloc(k->orphans, cap * sizeof *grown);
            if (!grown) {
                say("out of memory: some exits of the JVM's jobs will go unrecorded");
                break;
            }
            k->orphans = grown;
            k->cap_orphans = cap;
        }
        k->orphans[k->n_orphans++] = (struct orphan){ (pid_t)v, start_time((pid_t)v) };
    }
    closedir(proc);
}

/* Whether pid, started at start, is one of the JVM's orphans; it is forgotten as it is reaped. */
static bool forget_orphan(struct keeper *k, pid_t pid, unsigned long long start) {
    for (size_t i = 0; i < k->n_orphans; i++) {
        if (k->orphans[i].pid == pid) {
            bool same = k->orphans[i].start == start;
            k->orphans[i] = k->orphans[--k->n_orphans];
            return same;
        }
    }
    return false;
}

/* Every dead child: its start time is read while it is still a zombie, then it is reaped. */
static void reap(struct keeper *k) {
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (k->jvm > 0 && waitid(P_PID, (id_t)k->jvm, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0
                && info.si_pid == k->jvm) {
            take_orphans(k); /* the JVM is dead: its children are ours now, none reaped yet */
        } else {
            memset(&info, 0, sizeof info);
            if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 || info.si_pid == 0) return;
        }
        pid_t pid = info.si_pid;
        unsigned long long start = pid == k->jvm ? 0 : start_time(pid);
        int status;
        if (waitpid(pid, &status, __WALL) != pid) continue;
        if (pid == k->jvm) jvm_exited(k, status);
        else if (forget_orphan(k, pid, start)) record_exit(k, pid, start, status);
    }
}

/* ---- signals ---- */

static void stop(struct keeper *k, int sig) {
    k->stopping = true;
    /* A second stop while one waits goes through at once: a JVM that hangs before it serves
       must not make us unstoppable. */
    if (k->jvm && (k->serving || k->stop_signal)) {
        kill(k->jvm, sig);
        k->stop_signal = 0;
        return;
    }
    /* No JVM, or one that has not registered (and may lack its handlers): the stop goes to a JVM
       that serves, which stops every job it re-adopted. */
    k->stop_signal = sig;
    if (!k->jvm) k->restart_at = now_ms();
}

static void on_signal(struct keeper *k, int sig) {
    switch (sig) {
    case SIGCHLD: reap(k); break;
    case SIGTERM: case SIGINT: stop(k, sig); break;
    case SIGHUP: if (k->jvm) kill(k->jvm, SIGHUP); break;
    case SIGUSR2: replace_self(k); break;
    default: break;
    }
}

static int signals(sigset_t *set) {
    sigemptyset(set);
    int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR2 };
    for (size_t i = 0; i < sizeof handled / sizeof *handled; i++) sigaddset(set, handled[i]);
    if (sigprocmask(SIG_BLOCK, set, NULL) != 0) return -1;
    return signalfd(-1, set, SFD_CLOEXEC);
}

/* ---- replacing ourselves ---- */

static void replace_self(struct keeper *k) {
    size_t n = 0;
    while (k->jvm_argv[n]) n++;
    char **argv = calloc(n + 5, sizeof *argv);
    char state[256];
    if (!argv) {
        say("cannot replace the keeper: out of memory");
        return;
    }
    snprintf(state, sizeof state,
             "jvm=%d,link=%d,listen=%d,exits=%d,exe=%d,registered=%d,serving=%d,stopping=%d,stopsig=%d,started=%lld,backoff=%d,"
             "backoffmax=%d,reexec=%d",
             (int)k->jvm, k->link, k->listen_fd, k->exits_dir, k->exe, k->registered, k->serving, k->stopping, k->stop_signal,
             k->jvm_started, k->backoff, k->backoff_max, k->reexec);
    argv[0] = "blivet-keeper";
    argv[1] = "--resume";
    argv[2] = state;
    argv[3] = "--";
    memcpy(argv + 4, k->jvm_argv, n * sizeof *argv);
    int kept[] = { k->link, k->listen_fd, k->exits_dir, k->exe };
    for (size_t i = 0; i < 4; i++) if (kept[i] >= 0) set_cloexec(kept[i], false);
    say("replacing the keeper (%s)", k->exe_path);
    execv(k->exe_path, argv);    /* the file at our path now: a package upgrade's new keeper */
    fexecve(k->exe, argv, environ); /* else the one we started from */
    say("cannot replace the keeper: %s; this one goes on", strerror(errno));
    for (size_t i = 0; i < 4; i++) if (kept[i] >= 0) set_cloexec(kept[i], true);
    free(argv);
}

/* Unknown keys are skipped with a warning, so an older keeper's state resumes in a newer one. */
static bool resume(struct keeper *k, const char *given) {
    char state[256]; /* a copy: our command line, as ps shows it, stays as it was */
    if (strlen(given) >= sizeof state) return false;
    strcpy(state, given);
    for (char *item = strtok(state, ","); item; item = strtok(NULL, ",")) {
        char *eq = strchr(item, '=');
        long long v;
        bool negative = eq && eq[1] == '-';
        if (!eq || !parse_ll(eq + 1 + negative, LLONG_MAX, &v)) return false;
        if (negative) v = -v;
        *eq = '\0';
        if (strcmp(item, "jvm") == 0) k->jvm = (pid_t)v;
        else if (strcmp(item, "link") == 0) k->link = (int)v;
        else if (strcmp(item, "listen") == 0) k->listen_fd = (int)v;
        else if (strcmp(item, "exits") == 0) k->exits_dir = (int)v;
        else if (strcmp(item, "exe") == 0) k->exe = (int)v;
        else if (strcmp(item, "registered") == 0) k->registered = v != 0;
        else if (strcmp(item, "serving") == 0) k->serving = v != 0;
        else if (strcmp(item, "stopping") == 0) k->stopping = v != 0;
        else if (strcmp(item, "reexec") == 0) k->reexec = v != 0;
        else if (strcmp(item, "stopsig") == 0) k->stop_signal = (int)v;
        else if (strcmp(item, "started") == 0) k->jvm_started = v;
        else if (strcmp(item, "backoff") == 0) k->backoff = (int)v;
        else if (strcmp(item, "backoffmax") == 0 && v >= 0 && v <= BACKOFF_LIMIT_MS) k->backoff_max = (int)v;
        else say("--resume: unknown key %s, ignored", item);
    }
    int kept[] = { k->link, k->listen_fd, k->exits_dir, k->exe };
    for (size_t i = 0; i < 4; i++) if (kept[i] >= 0) set_cloexec(kept[i], true);
    take_orphans(k); /* our children but the JVM are jobs an earlier JVM left us */
    return true;
}

/* ---- start ---- */

/* A socket systemd passed to us (socket activation): fd 3, meant for our pid. */
static int systemd_socket(void) {
    const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
    long long n, for_pid;
    int fd = -1;
    if (fds && pid && parse_ll(fds, INT_MAX, &n) && parse_ll(pid, INT_MAX, &for_pid) && for_pid == getpid() && n >= 1) {
        if (n > 1) say("systemd passed %lld sockets; using the first (fd 3) only", n);
        fd = is_type(JVM_LISTEN_FD, S_IFSOCK) ? JVM_LISTEN_FD : -1;
        if (fd >= 0) set_cloexec(fd, true);
    }
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDNAMES");
    return fd;
}

int main(int argc, char **argv) {
    struct keeper k = { .jvm = 0, .link = -1, .listen_fd = -1, .exits_dir = -1, .exe = -1, .restart_at = -1,
                        .backoff_max = BACKOFF_MAX_MS, .notify = -1 };
    int first = 1;
    char *state = NULL;
    if (argc > 2 && strcmp(argv[1], "--resume") == 0) {
        state = argv[2];
        first = 3;
    }
    const char *cap = "--backoff-max=";
    if (first < argc && strncmp(argv[first], cap, strlen(cap)) == 0) {
        long long v;
        if (!parse_ll(argv[first] + strlen(cap), BACKOFF_LIMIT_MS, &v)) {
            say("%s: not a number of milliseconds from 0 to %d", argv[first], BACKOFF_LIMIT_MS);
            return EXIT_USAGE;
        }
        k.backoff_max = (int)v;
        first++;
    }
    if (first >= argc || strcmp(argv[first], "--") != 0 || first + 1 >= argc) {
        if (first < argc && strcmp(argv[first], "--") != 0) say("%s: not an option of blivet-keeper", argv[first]);
        say("usage: blivet-keeper [--backoff-max=MS] -- java [options] dev.blivet.daemon.Main [blivetd options]");
        return EXIT_USAGE;
    }
    k.jvm_argv = argv + first + 1;
    if (state && !resume(&k, state)) {
        say("--resume: malformed state");
        return EXIT_USAGE;
    }
    ssize_t len = readlink("/proc/self/exe", k.exe_path, sizeof k.exe_path - 1);
    if (len < 0) {
        say("cannot read /proc/self/exe: %s", strerror(errno));
        return EXIT_OSERR;
    }
    k.exe_path[len] = '\0';
    if (k.exe < 0) k.exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (!state) k.listen_fd = systemd_socket();
    open_notify(&k);
    open_watchdog(&k);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        say("cannot become a child subreaper: %s", strerror(errno));
        return EXIT_OSERR;
    }
    sigset_t set;
    int sig_fd = signals(&set);
    if (sig_fd < 0) {
        say("cannot take signals: %s", strerror(errno));
        return EXIT_OSERR;
    }
    if (state) {
        say("resumed, the JVM being pid %d", (int)k.jvm);
        reap(&k); /* whatever died while we were exec'ing */
        if (!k.jvm && k.restart_at < 0) k.restart_at = now_ms();
    } else {
        start_jvm(&k);
    }
    for (;;) {
        if (!k.jvm && k.restart_at >= 0 && now_ms() >= k.restart_at) start_jvm(&k);
        feed_watchdog(&k);
        int timeout = -1; /* idle means asleep: a timeout only while a restart waits */
        if (!k.jvm && k.restart_at >= 0) {
            long long now = now_ms(), wake = k.restart_at;
            if (k.watchdog_ms > 0 && k.watchdog_at < wake) wake = k.watchdog_at;
            long long left = wake - now;
            timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd fds[2] = { { .fd = sig_fd, .events = POLLIN }, { .fd = k.link, .events = POLLIN } };
        if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
            say("poll: %s", strerror(errno));
            return EXIT_OSERR;
        }
        /* The link first: a JVM says REEXEC or STOPPING before it exits. */
        if (k.link >= 0 && fds[1].revents) read_link(&k);
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(sig_fd, &info, sizeof info) == (ssize_t)sizeof info) {
                on_signal(&k, (int)info.ssi_signo);
                struct pollfd more = { .fd = sig_fd, .events = POLLIN };
                if (poll(&more, 1, 0) <= 0) break;
            }
        }
    }
}
