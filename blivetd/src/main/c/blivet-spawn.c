/*
 * blivet-spawn: the post-fork half of blivetd's launcher (ARCHITECTURE.md, Rule 1).
 *
 * blivetd starts this program with posix_spawn (the first fork), so no Java code ever runs in a
 * forked child of the JVM. Everything was decided and validated in Java; this program only
 * executes the plan, top to bottom, and reports on a pipe.
 *
 * File descriptors on entry (set up by posix_spawn file actions):
 *   0, 1, 2  /dev/null
 *   3        the plan: a memfd holding "BLVT1\0" then "key=value\0" records (no secrets in argv)
 *   4        the report pipe, write end (made close-on-exec here)
 *   5        optional: the readiness pipe for notify-fd jobs, write end
 *
 * Report records, one line each, written with single write(2) calls (< PIPE_BUF, so atomic):
 *   F<pid>\n            the intermediate forked the daemon, whose pid this is
 *   P<pid>\n            the daemon is about to execve (a positive report: EOF alone is not success)
 *   E<code> <message>\n a failure; <code> is a sysexits value, the process then _exits with it
 * The pipe is close-on-exec, so EOF after P means execve succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* sysexits values; the Java side defines the same numbers once in common/ExitCode. */
enum {
    EX_USAGE_ = 64, EX_NOINPUT_ = 66, EX_NOUSER_ = 67, EX_UNAVAILABLE_ = 69,
    EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_CANTCREAT_ = 73, EX_NOPERM_ = 77
};

enum { PLAN_FD = 3, REPORT_FD = 4, READY_FD = 5 };
enum { KERNEL_SIGSET_SIZE = 8 }; /* the kernel's sigset_t: 64 signals */
enum { MAX_PLAN = 16 << 20, MAX_ITEMS = 65536, MAX_RLIMITS = 16 };
static const char PLAN_MAGIC[] = "BLVT1"; /* sizeof includes the NUL that ends it in the plan */

/* Moves only if the job asks for its notify fd at REPORT_FD's number. */
static int report_fd = REPORT_FD;

struct rlimit_entry { int resource; struct rlimit limit; const char *name; };

struct plan {
    const char *exec;
    const char **argv; size_t argc;
    const char **envp; size_t envc;
    mode_t umask;
    const char *chroot, *chdir;
    const char *stdout_path, *stderr_path;
    bool append;
    const char *lockfile, *pidfile;
    bool drop; uid_t uid; gid_t gid;
    bool files_as_user; /* drop before opening anything: the job was asked for by a non-root client */
    gid_t *groups; size_t ngroups;
    struct rlimit_entry rlimits[MAX_RLIMITS]; size_t nrlimits;
    int notify_fd; /* -1: none */
};

/* ---- reporting: every failure funnels through fail() ---- */

static void report(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    /* One write: a short or failed write has nowhere better to be reported. */
    ssize_t ignored = write(report_fd, line, (size_t)n);
    (void)ignored;
}

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int code, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++) if (*c == '\n') *c = ' ';
    report("E%d %s", code, msg);
    _exit(code);
}

/* Kind-prefixed messages naming the culprit, with errno spelled out. */
#define FAIL_ERRNO(code, what, path) fail((code), "%s: %s: %s", (what), (path), strerror(errno))

/* ---- plan ---- */

static char *read_plan(size_t *len) {
    struct stat st;
    if (fstat(PLAN_FD, &st) != 0) fail(EX_SOFTWARE_, "internal error: no plan on fd %d: %s", PLAN_FD, strerror(errno));
    if (st.st_size <= 0 || st.st_size > MAX_PLAN) fail(EX_SOFTWARE_, "internal error: plan size %lld", (long long)st.st_size);
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) fail(EX_OSERR_, "os error: out of memory reading the plan");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(PLAN_FD, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(EX_SOFTWARE_, "internal error: reading the plan: %s", n < 0 ? strerror(errno) : "short");
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(PLAN_FD);
    *len = got;
    return buf;
}

static unsigned long parse_number(const char *key, const char *value, int base) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, base);
    if (errno || *value == '\0' || *end != '\0') fail(EX_SOFTWARE_, "internal error: bad number for %s: %s", key, value);
    return v;
}

static rlim_t parse_rlim(const char *value) {
    return strcmp(value, "infinity") == 0 ? RLIM_INFINITY : (rlim_t)parse_number("rlimit", value, 10);
}

static int rlimit_resource(const char *name) {
    static const struct { const char *name; int resource; } table[] = {
        {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
        {"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS}, {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE},
        {"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS}, {"rtprio", RLIMIT_RTPRIO},
        {"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return table[i].resource;
    fail(EX_SOFTWARE_, "internal error: unknown rlimit %s", name);
}

/* "name:soft:hard" */
static void add_rlimit(struct plan *p, char *value) {
    if (p->nrlimits == MAX_RLIMITS) fail(EX_SOFTWARE_, "internal error: too many rlimits");
    char *soft = strchr(value, ':');
    char *hard = soft ? strchr(soft + 1, ':') : NULL;
    if (!soft || !hard) fail(EX_SOFTWARE_, "internal error: bad rlimit %s", value);
    *soft++ = '\0';
    *hard++ = '\0';
    struct rlimit_entry *e = &p->rlimits[p->nrlimits++];
    e->name = value;
    e->resource = rlimit_resource(value);
    e->limit.rlim_cur = parse_rlim(soft);
    e->limit.rlim_max = parse_rlim(hard);
}

static void parse_plan(char *buf, size_t len, struct plan *p) {
    if (len < sizeof PLAN_MAGIC || memcmp(buf, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0)
        fail(EX_SOFTWARE_, "internal error: plan has no magic (helper and blivetd versions differ?)");
    if (buf[len - 1] != '\0') fail(EX_SOFTWARE_, "internal error: plan not NUL-terminated");

    size_t items = 0;
    for (size_t i = 0; i < len; i++) items += buf[i] == '\0';
    if (items > MAX_ITEMS) fail(EX_SOFTWARE_, "internal error: plan has %zu items", items);
    p->argv = calloc(items + 1, sizeof *p->argv);
    p->envp = calloc(items + 1, sizeof *p->envp);
    p->groups = calloc(items + 1, sizeof *p->groups);
    if (!p->argv || !p->envp || !p->groups) fail(EX_OSERR_, "os error: out of memory parsing the plan");
    p->notify_fd = -1;

    for (char *rec = buf + sizeof PLAN_MAGIC, *next; rec < buf + len; rec = next) {
        next = rec + strlen(rec) + 1; /* before the '=' below becomes a NUL */
        char *value = strchr(rec, '=');
        if (!value) fail(EX_SOFTWARE_, "internal error: plan record without '=': %s", rec);
        *value++ = '\0';
        const char *key = rec;
        if (!strcmp(key, "exec")) p->exec = value;
        else if (!strcmp(key, "arg")) p->argv[p->argc++] = value;
        else if (!strcmp(key, "env")) p->envp[p->envc++] = value;
        else if (!strcmp(key, "umask")) p->umask = (mode_t)parse_number(key, value, 8);
        else if (!strcmp(key, "chroot")) p->chroot = value;
        else if (!strcmp(key, "chdir")) p->chdir = value;
        else if (!strcmp(key, "stdout")) p->stdout_path = value;
        else if (!strcmp(key, "stderr")) p->stderr_path = value;
        else if (!strcmp(key, "append")) p->append = !strcmp(value, "1");
        else if (!strcmp(key, "lockfile")) p->lockfile = value;
        else if (!strcmp(key, "pidfile")) p->pidfile = value;
        else if (!strcmp(key, "uid")) { p->drop = true; p->uid = (uid_t)parse_number(key, value, 10); }
        else if (!strcmp(key, "gid")) p->gid = (gid_t)parse_number(key, value, 10);
        else if (!strcmp(key, "group")) p->groups[p->ngroups++] = (gid_t)parse_number(key, value, 10);
        else if (!strcmp(key, "rlimit")) add_rlimit(p, value);
        else if (!strcmp(key, "notify_fd")) p->notify_fd = (int)parse_number(key, value, 10);
        else if (!strcmp(key, "files_as_user")) p->files_as_user = !strcmp(value, "1");
        else fail(EX_SOFTWARE_, "internal error: unknown plan key %s", key);
        /* p->argv[argc] and p->envp[envc] stay NULL thanks to calloc(items + 1). */
    }
    /* The pipe is only handed over for notify-fd jobs; without it, fd 5 is not ours. */
    if (p->exec == NULL || p->argc == 0 || p->chdir == NULL)
        fail(EX_SOFTWARE_, "internal error: plan lacks exec, argv or chdir");
    if (p->files_as_user && (!p->drop || p->chroot))
        fail(EX_SOFTWARE_, "internal error: files_as_user needs an identity and no chroot");
    if (p->notify_fd >= 0 && fcntl(READY_FD, F_GETFD) < 0)
        fail(EX_SOFTWARE_, "internal error: notify fd requested but fd %d is not open", READY_FD);
}

/* ---- steps ---- */

static void reset_signals(void) {
    /* Every signal, real-time ones included: SIG_IGN survives execve, and the JVM's spawning
       thread hands us its blocked set. The raw syscall, because glibc's sigaction refuses its
       own internal signals (32, 33), which the JVM leaves ignored. An all-zero kernel
       sigaction is SIG_DFL with no flags and an empty mask on every architecture's layout. */
    unsigned long zero[4];
    memset(zero, 0, sizeof zero);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, zero, NULL, KERNEL_SIGSET_SIZE);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void close_fds_from(int first) {
    if (close_range((unsigned)first, ~0U, 0) == 0) return;
    /* Kernels before 5.9: close what is actually open rather than looping to RLIMIT_NOFILE. */
    for (int fd = first; fd < 65536; fd++) close(fd);
}

static void close_fds_except(const int *keep, size_t nkeep) {
    /* keep is sorted ascending, every entry > 2 */
    int next = 3;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] > next && close_range((unsigned)next, (unsigned)keep[i] - 1, 0) != 0)
            for (int fd = next; fd < keep[i]; fd++) close(fd);
        next = keep[i] + 1;
    }
    close_fds_from(next);
}

static void set_cloexec(int fd, bool on, const char *what) {
    if (fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", what);
}

static void redirect(int target, const char *path, int flags, mode_t mode, int code, const char *what) {
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, mode);
    if (fd < 0) FAIL_ERRNO(code, what, path);
    if (dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", path);
    close(fd);
}

/* Root opening a file that it will then chown to the job's user, often in a directory that user
   can write to: the open file must be a regular file with a single link (not a hardlink the
   user planted to /etc/shadow), and if it already existed, root's or the user's. O_NONBLOCK
   keeps a planted FIFO from stalling the start. Set only while files are opened as root for
   another user. */
static const struct plan *guarded;

static void check_opened(int fd, const char *what, const char *path) {
    if (!guarded) return;
    struct stat st;
    if (fstat(fd, &st) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
    if (!S_ISREG(st.st_mode)) fail(EX_CANTCREAT_, "%s: %s: not a regular file", what, path);
    if (st.st_nlink != 1) fail(EX_CANTCREAT_, "%s: %s: has %lu hard links; refusing to chown it", what, path,
                               (unsigned long)st.st_nlink);
    if (st.st_uid != 0 && st.st_uid != guarded->uid)
        fail(EX_CANTCREAT_, "%s: %s: belongs to uid %u, not to root or the job's user", what, path, (unsigned)st.st_uid);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", path);
}

static int guarded_flags(void) {
    return guarded ? O_NONBLOCK : 0;
}

/* Output files belong to the job: created 0644 less the job's umask. O_NOFOLLOW: as root, a
   symlink planted in a shared directory must not redirect our writes. */
static void open_output(int target, const char *path, bool append) {
    /* Truncation waits for the checks: a file that fails them must stay untouched. */
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create output file", path);
    check_opened(fd, "cannot create output file", path);
    if (append) {
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", path);
    } else {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0)
            FAIL_ERRNO(EX_CANTCREAT_, "cannot truncate output file", path);
    }
    if (dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", path);
    close(fd);
}

static int open_lockfile(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create lockfile", path);
    check_opened(fd, "cannot create lockfile", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) fail(EX_UNAVAILABLE_, "lock conflict: %s is held by another process", path);
        FAIL_ERRNO(EX_CANTCREAT_, "cannot lock lockfile", path);
    }
    return fd;
}

static void write_pid(int fd, pid_t pid, const char *path) {
    char text[32];
    int n = snprintf(text, sizeof text, "%d\n", (int)pid);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) FAIL_ERRNO(EX_CANTCREAT_, "cannot write pidfile", path);
    /* An explicit mode, whatever the umask: other tools read pidfiles. */
    if (fchmod(fd, 0644) != 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot chmod pidfile", path);
}

static int open_pidfile(const char *path) {
    /* No O_TRUNC: the old content goes only once we know the new pid is ours to write. */
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create pidfile", path);
    check_opened(fd, "cannot create pidfile", path);
    return fd;
}

static void chown_to_job(int fd, const struct plan *p, const char *what, const char *path) {
    if (fchown(fd, p->uid, p->gid) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
}

static void drop_privileges(const struct plan *p) {
    if (setgroups(p->ngroups, p->groups) != 0) fail(EX_NOPERM_, "permission denied: setgroups: %s", strerror(errno));
    if (setgid(p->gid) != 0) fail(EX_NOPERM_, "permission denied: setgid(%u): %s", (unsigned)p->gid, strerror(errno));
    if (setuid(p->uid) != 0) fail(EX_NOPERM_, "permission denied: setuid(%u): %s", (unsigned)p->uid, strerror(errno));
    /* Prove the drop cannot be undone: neither blivet nor daemonize2 checks this. */
    if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        fail(EX_NOPERM_, "permission denied: privileges could be regained after setuid(%u)", (unsigned)p->uid);
    if (p->gid != 0 && p->uid != 0 && (setgid(0) == 0 || setegid(0) == 0))
        fail(EX_NOPERM_, "permission denied: group 0 could be regained after setgid(%u)", (unsigned)p->gid);
}

static int compare_ints(const void *a, const void *b) {
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The daemon: runs as the grandchild of blivetd, reparented to it (blivetd is a subreaper). */
__attribute__((noreturn))
static void become_daemon(const struct plan *p) {
    /* Root's privileges only serve a job root asked for; anyone else's files are opened as them. */
    bool chown_files = p->drop && !p->files_as_user;
    if (p->files_as_user) drop_privileges(p);
    if (chown_files && p->uid != 0) guarded = p;
    umask(p->umask);
    redirect(STDIN_FILENO, "/dev/null", O_RDONLY, 0, EX_OSERR_, "os error: open");

    /* Lock first: a second instance must fail before it touches the pidfile or the output files. */
    int lock_fd = p->lockfile ? open_lockfile(p->lockfile) : -1;
    bool pid_via_lock = p->pidfile && p->lockfile && strcmp(p->pidfile, p->lockfile) == 0;

    if (p->stdout_path) open_output(STDOUT_FILENO, p->stdout_path, p->append);
    else redirect(STDOUT_FILENO, "/dev/null", O_WRONLY, 0, EX_OSERR_, "os error: open");
    if (p->stderr_path && p->stdout_path && strcmp(p->stderr_path, p->stdout_path) == 0) {
        if (dup2(STDOUT_FILENO, STDERR_FILENO) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", p->stderr_path);
    } else if (p->stderr_path) {
        open_output(STDERR_FILENO, p->stderr_path, p->append);
    } else {
        redirect(STDERR_FILENO, "/dev/null", O_WRONLY, 0, EX_OSERR_, "os error: open");
    }

    /* Opened now, as root and with host paths; the pid is written last, once nothing can fail. */
    int pid_fd = p->pidfile ? (pid_via_lock ? lock_fd : open_pidfile(p->pidfile)) : -1;

    if (chown_files) {
        if (p->stdout_path) chown_to_job(STDOUT_FILENO, p, "cannot chown output file", p->stdout_path);
        if (p->stderr_path) chown_to_job(STDERR_FILENO, p, "cannot chown output file", p->stderr_path);
        if (pid_fd >= 0) chown_to_job(pid_fd, p, "cannot chown pidfile", p->pidfile);
        if (lock_fd >= 0 && !pid_via_lock) chown_to_job(lock_fd, p, "cannot chown lockfile", p->lockfile);
    }

    /* chroot after the files (their paths are the host's, as blivetd sees them), before the drop. */
    if (p->chroot && chroot(p->chroot) != 0) FAIL_ERRNO(EX_OSERR_, "os error: chroot", p->chroot);
    if (chdir(p->chdir) != 0) FAIL_ERRNO(EX_OSERR_, "os error: chdir", p->chdir);

    for (size_t i = 0; i < p->nrlimits; i++)
        if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) != 0)
            fail(EX_OSERR_, "os error: setrlimit %s: %s", p->rlimits[i].name, strerror(errno));

    if (chown_files) drop_privileges(p);
    if (pid_fd >= 0) {
        write_pid(pid_fd, getpid(), p->pidfile);
        if (!pid_via_lock) close(pid_fd); /* before the notify fd's dup2 could land on its number */
    }

    /* Final fd layout: 0-2, the lock (held across exec), the notify fd, the report pipe. */
    int keep[3]; /* notify fd, lock, report pipe */
    size_t nkeep = 0;
    if (p->notify_fd >= 0) {
        if (lock_fd == p->notify_fd) {
            int moved = fcntl(lock_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", p->lockfile);
            lock_fd = moved; /* the old number is overwritten by dup2 below */
        }
        if (report_fd == p->notify_fd) {
            int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) fail(EX_OSERR_, "os error: fcntl report pipe: %s", strerror(errno));
            report_fd = moved;
        }
        if (p->notify_fd != READY_FD) {
            if (dup2(READY_FD, p->notify_fd) < 0) fail(EX_OSERR_, "os error: dup2 notify fd %d: %s", p->notify_fd, strerror(errno));
        } else {
            set_cloexec(READY_FD, false, "notify fd");
        }
        keep[nkeep++] = p->notify_fd;
    }
    if (lock_fd >= 0) {
        set_cloexec(lock_fd, false, p->lockfile);
        keep[nkeep++] = lock_fd;
    }
    keep[nkeep++] = report_fd;
    qsort(keep, nkeep, sizeof keep[0], compare_ints);
    close_fds_except(keep, nkeep);

    report("P%d", (int)getpid());
    execve(p->exec, (char *const *)p->argv, (char *const *)p->envp);
    int err = errno;
    if (err == EACCES || err == EPERM)
        fail(EX_NOPERM_, "permission denied: execve %s: %s (can the job's user search every directory on the way?)",
             p->exec, strerror(err));
    if (err == ENOENT && access(p->exec, F_OK) == 0)
        fail(EX_NOINPUT_, "cannot run program: %s: its interpreter (#! line) or dynamic loader does not exist", p->exec);
    fail(err == ENOENT ? EX_NOINPUT_ : EX_OSERR_, "%s: %s: %s", err == ENOENT ? "cannot run program" : "os error: execve",
         p->exec, strerror(err));
}

int main(void) {
    reset_signals();
    /* Whatever the JVM leaked past posix_spawn goes before we read anything. */
    if (fcntl(REPORT_FD, F_GETFD) < 0) return EX_SOFTWARE_; /* nowhere to report: not started by blivetd */
    close_fds_from(READY_FD + 1);
    set_cloexec(REPORT_FD, true, "report pipe");
    if (fcntl(READY_FD, F_GETFD) >= 0) set_cloexec(READY_FD, true, "notify pipe");

    size_t len;
    char *buf = read_plan(&len);
    struct plan plan;
    memset(&plan, 0, sizeof plan);
    parse_plan(buf, len, &plan);

    if (setsid() < 0) fail(EX_OSERR_, "os error: setsid: %s", strerror(errno));
    pid_t daemon_pid = fork();
    if (daemon_pid < 0) fail(EX_OSERR_, "os error: fork: %s", strerror(errno));
    if (daemon_pid > 0) {
        /* The intermediate exits: the daemon is not a session leader, so it can never acquire a
           controlling terminal, and blivetd (a subreaper) becomes its parent. */
        report("F%d", (int)daemon_pid);
        _exit(0);
    }
    become_daemon(&plan);
}
