/*
 * blivet-spawn: the post-fork half of blivetd's launcher (docs/architecture.md, Rule 1).
 *
 * blivetd starts this program with posix_spawn (the first fork), so no Java code ever runs in a
 * forked child of the JVM. Everything was decided and validated in Java; this program only
 * executes the plan, top to bottom, and reports on a pipe. It is mechanism: it says which step
 * failed with which errno on which path, and blivetd words the message and picks its exit code.
 *
 * File descriptors on entry (set up by posix_spawn file actions; numbers in blivet-spawn-protocol.h):
 *   0, 1, 2  /dev/null
 *   3        the plan: a memfd holding "BLVT1\0" then "key=value\0" records (no secrets in argv)
 *   4        the report pipe, write end (made close-on-exec here)
 *   5        optional: the readiness pipe for notify-fd jobs, write end
 *   6        optional ("cgroup=1" in the plan): the job's cgroup v2 directory, into which the
 *            helper forks the daemon, so the job runs nothing of its own outside it
 *
 * Report records, one line each, written with single write(2) calls (< PIPE_BUF, so atomic):
 *   F<pid>\n            the intermediate forked the daemon, whose pid this is
 *   I<dev> <ino>\n      the pidfile the daemon opened (st_dev as stat(2) gives it): blivetd
 *                       removes a pidfile only while its name still refers to this file
 *   O<fd> <dev> <ino>\n the output file opened as fd 1 or 2: blivetd shows a job's log to its
 *                       user only from the very file the job's user opened
 *   P<pid>\n            the daemon is about to execve (a positive report: EOF alone is not success)
 *   E<step> <cause>[\0<arg>]...\n
 *                       a failure: the step (STEPS), then the errno in decimal or, where no
 *                       system call failed, a check (CHECKS), then its arguments (the path, the
 *                       number), each after a NUL; the process then exits HELPER_FAILED
 * The pipe is close-on-exec, so EOF after P means execve succeeded.
 *
 * Layout at execve: 0 /dev/null, 1-2 the job's output files or /dev/null, the lockfile's fd (its
 * lock held), the notify fd at the number the job asked for, and the report pipe, which execve
 * closes; nothing else.
 *
 * The trusted-path rule, for every path the job names (stdout, stderr, lockfile, pidfile, chroot,
 * chdir; /dev/null is the helper's own): no symbolic link is followed in any component (openat2
 * RESOLVE_NO_SYMLINKS, or a walk of O_NOFOLLOW directory fds where the kernel lacks it); a job
 * with an identity has every path used with that identity's permissions (setfsuid, setfsgid, its
 * groups) before anything is opened, so root's power never reaches a path the job's user could
 * not use itself; a file is created with O_EXCL, or else used only if it is a regular file with
 * one link owned by the job's user (ours when the job keeps our identity), checked on the open fd.
 *
 * Built statically against musl (blivetd/pom.xml), whose start-up does not probe the CPU as
 * glibc's does: docs/architecture.md, "The helper's C library", has the measurement. Being
 * single-threaded, it needs nothing of a C library's thread-safety around set*id and fork.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blivet-spawn-protocol.h"

enum { STDIN_FD = 0, STDOUT_FD = 1, STDERR_FD = 2 };
enum { KERNEL_NSIG = 64, KERNEL_SIGSET_SIZE = 8 }; /* the kernel's signals and sigset_t on both architectures */
enum { MAX_PLAN = 16 << 20, MAX_ITEMS = 65536, MAX_RLIMITS = 16 };
enum { REPORT_MAX = 1024 }; /* well under PIPE_BUF: one write is one atomic line */

/* openat2(2)'s argument and flags: the kernel's ABI, which neither musl nor glibc declares. */
struct open_how_ { uint64_t flags, mode, resolve; };
enum { RESOLVE_NO_MAGICLINKS_ = 0x02, RESOLVE_NO_SYMLINKS_ = 0x04 };
/* clone3(2)'s argument up to its cgroup field (CLONE_ARGS_SIZE_VER2), the same on both architectures. */
struct clone_args_ { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                     set_tid_size, cgroup; };
#define CLONE_INTO_CGROUP_ 0x200000000ULL

#define AS_ENUM(name, text) name,
#define AS_TEXT(name, text) text,
enum step { STEPS(AS_ENUM) };
enum check { CHECKS(AS_ENUM) };
enum plan_key { PLAN_KEYS(AS_ENUM) };
static const char *const STEP_NAMES[] = { STEPS(AS_TEXT) };
static const char *const CHECK_NAMES[] = { CHECKS(AS_TEXT) };
static const char *const PLAN_KEY_NAMES[] = { PLAN_KEYS(AS_TEXT) };

/* ---- reporting: every failure funnels through fail() ---- */

/* Moves only if the job asks for its notify fd at REPORT_FD's number. */
static int report_fd = REPORT_FD;

struct line { char buf[REPORT_MAX]; size_t len; };

/* Bytes beyond REPORT_MAX - 1 are cut: a long path stays recognisable, the line stays atomic. */
static void put_bytes(struct line *l, const char *s, size_t n) {
    for (size_t i = 0; i < n && l->len < REPORT_MAX - 1; i++)
        l->buf[l->len++] = s[i] == '\n' ? ' ' : s[i]; /* one record, one line */
}

static void put_text(struct line *l, const char *s) { put_bytes(l, s, strlen(s)); }

static void put_number(struct line *l, long long v) {
    char digits[24];
    put_bytes(l, digits, (size_t)snprintf(digits, sizeof digits, "%lld", v));
}

static void send_line(struct line *l) {
    l->buf[l->len++] = '\n';
    /* One write: a short or failed write has nowhere better to be reported. */
    if (write(report_fd, l->buf, l->len) < 0) return;
}

static void report_number(char kind, long long v) {
    struct line l = { .len = 0 };
    l.buf[l.len++] = kind;
    put_number(&l, v);
    send_line(&l);
}

/* The arguments: 's' a string, 'd' an int, 'u' an unsigned, 'l' a long long, as args lists them. */
__attribute__((noreturn))
static void fail_report(enum step step, int err, enum check check, const char *args, ...) {
    struct line l = { .len = 0 };
    l.buf[l.len++] = REPORT_FAILED;
    put_text(&l, STEP_NAMES[step]);
    put_text(&l, " ");
    if (err) put_number(&l, err);
    else put_text(&l, CHECK_NAMES[check]);
    va_list ap;
    va_start(ap, args);
    for (const char *a = args; *a; a++) {
        put_bytes(&l, "", 1);
        if (*a == 's') put_text(&l, va_arg(ap, const char *));
        else if (*a == 'd') put_number(&l, va_arg(ap, int));
        else if (*a == 'l') put_number(&l, va_arg(ap, long long));
        else put_number(&l, va_arg(ap, unsigned));
    }
    va_end(ap);
    send_line(&l);
    _exit(HELPER_FAILED);
}

/* A system call failed: errno says why. */
#define FAIL(step, ...) fail_report((step), errno, 0, __VA_ARGS__)
/* A check failed where no errno says why. */
#define FAIL_CHECK(step, check, ...) fail_report((step), 0, (check), __VA_ARGS__)
#define FAIL_PLAN(check, ...) FAIL_CHECK(STEP_PLAN, (check), __VA_ARGS__)

/* ---- the trusted-path rule: no symbolic link is followed in any component ---- */

/* Every path a job names (output files, lockfile, pidfile, chroot, chdir) is opened without
   following a symbolic link anywhere in it, not just at its end: whoever can write to one
   directory on the way could otherwise send the rest of the path wherever root can reach, in the
   moment between blivetd's checks and our open. openat2 says so in one call; kernels before 5.6
   lack it, and there the path is walked one component at a time, each directory opened O_NOFOLLOW
   from the one before. The paths arrive absolute and normalized (blivetd made them so). */
static bool resolve_by_walk; /* the kernel has no openat2, or the plan asks for the walk ("resolve=walk", tests) */

static bool is_symlink_at(int dir, const char *name) {
    struct stat st;
    return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

static int open_by_walk(const char *path, int flags, mode_t mode) {
    int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (const char *c = path; dir >= 0;) {
        while (*c == '/') c++;
        size_t n = strcspn(c, "/");
        const char *rest = c + n;
        while (*rest == '/') rest++;
        bool last = *rest == '\0';
        char name[NAME_MAX + 1] = ".";  /* stays "." only for the path "/" itself */
        if (n > NAME_MAX) {
            close(dir);
            errno = ENAMETOOLONG;
            return -1;
        }
        if (n > 0) {
            memcpy(name, c, n);
            name[n] = '\0';
        }
        int fd = last ? openat(dir, name, flags | O_NOFOLLOW, mode)
                      : openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* O_DIRECTORY answers a symbolic link with ENOTDIR; say what it really was. */
        if (fd < 0 && errno == ENOTDIR && is_symlink_at(dir, name)) errno = ELOOP;
        int err = errno;
        close(dir);
        errno = err;
        if (fd < 0 || last) return fd;
        dir = fd;
        c = rest;
    }
    return -1;
}

/* Fails with ELOOP where any component is a symbolic link. */
static int open_by_rule(const char *path, int flags, mode_t mode) {
    if (!resolve_by_walk) {
        struct open_how_ how = {
            .flags = (unsigned)flags,
            .mode = (flags & O_CREAT) ? mode : 0, /* openat2 refuses a mode it would not use */
            .resolve = RESOLVE_NO_SYMLINKS_ | RESOLVE_NO_MAGICLINKS_,
        };
        int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS) return fd;
        resolve_by_walk = true;
    }
    return open_by_walk(path, flags, mode);
}

/* ---- plan ---- */

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
    uid_t owner; /* who must own an existing job file: the job's uid, else our own */
    bool client_job; /* asked for by a non-root client: its rlimits are set only after the drop */
    gid_t *groups; size_t ngroups;
    struct rlimit_entry rlimits[MAX_RLIMITS]; size_t nrlimits;
    int notify_fd; /* -1: none */
    bool cgroup; /* join the cgroup whose directory is CGROUP_FD */
    pid_t parent; /* the blivetd that spawned us; 0: not checked (tests that run us by hand) */
};

static void *allocate(size_t bytes) {
    /* Zeroed pages; nothing is ever freed, the process is short-lived. */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) FAIL(STEP_MEMORY, "");
    return p;
}

static char *read_plan(size_t *len) {
    struct stat st;
    if (fstat(PLAN_FD, &st) != 0) FAIL(STEP_PLAN, "");
    if (st.st_size <= 0 || st.st_size > MAX_PLAN) FAIL_PLAN(CHECK_SIZE, "l", (long long)st.st_size);
    size_t size = (size_t)st.st_size;
    char *buf = allocate(size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(PLAN_FD, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) FAIL(STEP_PLAN, "");
        if (n == 0) FAIL_PLAN(CHECK_SHORT, "");
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(PLAN_FD);
    *len = got;
    return buf;
}

/* Digits only (Java wrote them): no sign, no blanks, no overflow. */
static unsigned long long parse_number(const char *key, const char *value, unsigned base) {
    unsigned long long v = 0;
    const char *c = value;
    for (; *c >= '0' && *c < (char)('0' + base); c++) {
        unsigned digit = (unsigned)(*c - '0');
        if (v > (~0ULL - digit) / base) break;
        v = v * base + digit;
    }
    if (*value == '\0' || *c != '\0') FAIL_PLAN(CHECK_NUMBER, "ss", key, value);
    return v;
}

static unsigned parse_id(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v >= 0xffffffffULL) FAIL_PLAN(CHECK_RANGE, "ss", key, value); /* -1 means "unchanged" to the kernel */
    return (unsigned)v;
}

static int parse_fd(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v > INT_MAX) FAIL_PLAN(CHECK_RANGE, "ss", key, value);
    return (int)v;
}

static rlim_t parse_rlim(const char *value) {
    return strcmp(value, "infinity") == 0 ? RLIM_INFINITY : (rlim_t)parse_number("rlimit", value, 10);
}

static int rlimit_resource(const char *name) {
#define AS_ROW(text, resource) {text, resource},
    static const struct { const char *name; int resource; } table[] = { RLIMITS(AS_ROW) };
#undef AS_ROW
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return table[i].resource;
    FAIL_PLAN(CHECK_RLIMIT_NAME, "s", name);
}

/* "name:soft:hard" */
static void add_rlimit(struct plan *p, char *value) {
    if (p->nrlimits == MAX_RLIMITS) FAIL_PLAN(CHECK_RLIMITS, "d", MAX_RLIMITS);
    char *soft = strchr(value, ':');
    char *hard = soft ? strchr(soft + 1, ':') : NULL;
    if (!soft || !hard) FAIL_PLAN(CHECK_RLIMIT, "s", value);
    *soft++ = '\0';
    *hard++ = '\0';
    struct rlimit_entry *e = &p->rlimits[p->nrlimits++];
    e->name = value;
    e->resource = rlimit_resource(value);
    e->limit.rlim_cur = parse_rlim(soft);
    e->limit.rlim_max = parse_rlim(hard);
}

static enum plan_key plan_key(const char *key) {
    for (size_t i = 0; i < sizeof PLAN_KEY_NAMES / sizeof PLAN_KEY_NAMES[0]; i++)
        if (strcmp(PLAN_KEY_NAMES[i], key) == 0) return (enum plan_key)i;
    FAIL_PLAN(CHECK_KEY, "s", key);
}

static void set_resolution(const char *value) {
    if (strcmp(value, "walk") == 0) resolve_by_walk = true;
    else if (strcmp(value, "openat2") != 0) FAIL_PLAN(CHECK_RESOLVE, "s", value);
}

static void parse_plan(char *buf, size_t len, struct plan *p) {
    if (len < sizeof PLAN_MAGIC || memcmp(buf, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0) FAIL_PLAN(CHECK_MAGIC, "");
    if (buf[len - 1] != '\0') FAIL_PLAN(CHECK_UNTERMINATED, "");

    size_t items = 0;
    for (size_t i = 0; i < len; i++) items += buf[i] == '\0';
    if (items > MAX_ITEMS) FAIL_PLAN(CHECK_ITEMS, "d", (int)items);
    /* Zeroed, so argv[argc] and envp[envc] stay NULL. */
    p->argv = allocate((items + 1) * sizeof *p->argv);
    p->envp = allocate((items + 1) * sizeof *p->envp);
    p->groups = allocate((items + 1) * sizeof *p->groups);
    p->notify_fd = -1;

    for (char *rec = buf + sizeof PLAN_MAGIC, *next; rec < buf + len; rec = next) {
        next = rec + strlen(rec) + 1; /* before the '=' below becomes a NUL */
        char *value = strchr(rec, '=');
        if (!value) FAIL_PLAN(CHECK_RECORD, "s", rec);
        *value++ = '\0';
        const char *key = rec;
        /* No default: the compiler insists every key of the protocol is handled. */
        switch (plan_key(key)) {
        case KEY_EXEC: p->exec = value; break;
        case KEY_ARG: p->argv[p->argc++] = value; break;
        case KEY_ENV: p->envp[p->envc++] = value; break;
        case KEY_UMASK: p->umask = (mode_t)parse_number(key, value, 8); break;
        case KEY_CHROOT: p->chroot = value; break;
        case KEY_CHDIR: p->chdir = value; break;
        case KEY_STDOUT: p->stdout_path = value; break;
        case KEY_STDERR: p->stderr_path = value; break;
        case KEY_APPEND: p->append = strcmp(value, "1") == 0; break;
        case KEY_LOCKFILE: p->lockfile = value; break;
        case KEY_PIDFILE: p->pidfile = value; break;
        case KEY_UID: p->drop = true; p->uid = parse_id(key, value); break;
        case KEY_GID: p->gid = parse_id(key, value); break;
        case KEY_GROUP: p->groups[p->ngroups++] = parse_id(key, value); break;
        case KEY_RLIMIT: add_rlimit(p, value); break;
        case KEY_NOTIFY_FD: p->notify_fd = parse_fd(key, value); break;
        case KEY_CLIENT_JOB: p->client_job = strcmp(value, "1") == 0; break;
        case KEY_RESOLVE: set_resolution(value); break;
        case KEY_CGROUP: p->cgroup = strcmp(value, "1") == 0; break;
        case KEY_PARENT: p->parent = parse_fd(key, value); break;
        }
    }
    if (p->exec == NULL || p->argc == 0 || p->chdir == NULL) FAIL_PLAN(CHECK_INCOMPLETE, "");
    if (p->client_job && (!p->drop || p->chroot)) FAIL_PLAN(CHECK_CLIENT_JOB, "");
    p->owner = p->drop ? p->uid : geteuid();
    /* The pipe is only handed over for notify-fd jobs; without it, fd 5 is not ours. */
    if (p->notify_fd >= 0 && fcntl(READY_FD, F_GETFD) < 0) FAIL_PLAN(CHECK_NOTIFY_FD, "");
    if (p->cgroup && fcntl(CGROUP_FD, F_GETFD) < 0) FAIL_PLAN(CHECK_CGROUP_FD, "");
}

/* ---- steps ---- */

static void reset_signals(void) {
    /* Every signal, real-time ones included: SIG_IGN survives execve, and the JVM's spawning
       thread hands us its blocked set (glibc's own 32 and 33 too, which the JVM leaves ignored).
       The system call itself: musl's sigaction refuses the numbers it reserves (32 to 34). An
       all-zero kernel sigaction is SIG_DFL with no flags and an empty mask on both layouts. */
    unsigned long zero[4] = {0, 0, 0, 0};
    for (int sig = 1; sig <= KERNEL_NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, zero, NULL, KERNEL_SIGSET_SIZE);
    unsigned long none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, KERNEL_SIGSET_SIZE);
}

static void close_fds_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
    /* Kernels before 5.9: close what is actually open rather than looping to RLIMIT_NOFILE. */
    for (int fd = first; fd < 65536; fd++) close(fd);
}

static void close_fds_except(const int *keep, size_t nkeep) {
    /* keep is sorted ascending, every entry > 2 */
    int next = 3;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] > next && syscall(SYS_close_range, (unsigned)next, (unsigned)keep[i] - 1, 0) != 0)
            for (int fd = next; fd < keep[i]; fd++) close(fd);
        next = keep[i] + 1;
    }
    close_fds_from(next);
}

static void set_cloexec(int fd, bool on) {
    if (fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) FAIL(STEP_FCNTL, "d", fd);
}

static void set_status_flags(int fd, int set, int clear) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, (flags | set) & ~clear) != 0) FAIL(STEP_FCNTL, "d", fd);
}

static void move_fd(int from, int to) {
    if (dup2(from, to) < 0) FAIL(STEP_DUP2, "dd", from, to);
}

/* /dev/null for what the job does not redirect: the helper's own choice, not a job's path. */
static void redirect_null(int target, int flags) {
    int fd = open("/dev/null", flags | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) FAIL(STEP_DEVNULL, "");
    move_fd(fd, target);
    if (fd != target) close(fd);
}

/* From here on the file system sees the job's user: each path it names is opened, created and
   entered with that user's permissions, so root's power never reaches a path the user could not
   have used itself, and what is created is the user's without a chown. The real and effective ids
   stay root's for chroot, setrlimit and the full drop later (none of them is a file capability).
   setfsuid and setfsgid cannot fail visibly: they return the previous id, so the second call
   says whether the first took effect. */
static void take_file_identity(const struct plan *p) {
    if (setgroups(p->ngroups, p->groups) != 0) FAIL(STEP_SETGROUPS, "");
    setfsgid(p->gid);
    if ((gid_t)setfsgid(p->gid) != p->gid) FAIL_CHECK(STEP_SETFSGID, CHECK_INEFFECTIVE, "u", p->gid);
    setfsuid(p->uid);
    if ((uid_t)setfsuid(p->uid) != p->uid) FAIL_CHECK(STEP_SETFSUID, CHECK_INEFFECTIVE, "u", p->uid);
}

/* An existing file is the job's only if it is what the job itself would have made: a regular
   file (a FIFO would stall the start, a device would act), with one link (a second name is a
   hardlink someone made to a file elsewhere), owned by the job's user (else someone else planted
   it, and could read or rewrite what the job writes). It was opened O_NONBLOCK for the check. */
static void check_existing(const struct plan *p, int fd, enum step step, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) FAIL(step, "s", path);
    if (!S_ISREG(st.st_mode)) FAIL_CHECK(step, CHECK_NOT_REGULAR, "s", path);
    if (st.st_nlink != 1) FAIL_CHECK(step, CHECK_LINKS, "su", path, (unsigned)st.st_nlink);
    if (st.st_uid != p->owner) FAIL_CHECK(step, CHECK_OWNER, "suu", path, (unsigned)st.st_uid, p->owner);
    set_status_flags(fd, 0, O_NONBLOCK);
}

/* Creates the file (0644 less the umask) or opens the job's own existing one, by the rule. */
static int open_job_file(const struct plan *p, enum step step, const char *path, int flags) {
    enum { ATTEMPTS = 8 }; /* each round is another process removing the file between our two opens */
    flags |= O_CLOEXEC | O_NOCTTY;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int fd = open_by_rule(path, flags | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) return fd;
        if (errno != EEXIST) FAIL(step, "s", path);
        fd = open_by_rule(path, flags | O_NONBLOCK, 0);
        if (fd >= 0) {
            check_existing(p, fd, step, path);
            return fd;
        }
        /* A FIFO with no reader, or a socket: opening either for writing without blocking says ENXIO. */
        if (errno == ENXIO) FAIL_CHECK(step, CHECK_NOT_REGULAR, "s", path);
        if (errno != ENOENT) FAIL(step, "s", path);
    }
    FAIL_CHECK(step, CHECK_RECREATED, "sd", path, ATTEMPTS);
}

/* Tells blivetd which file fd is, "<dev> <ino>" after the record's letter and prefix. st_dev is
   the kernel's encoding, which is what Java's stat(2) sees too. */
static void report_file_id(char record, const char *prefix, int fd, enum step step, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) FAIL(step, "s", path);
    char text[64];
    struct line l = { .len = 0 };
    l.buf[l.len++] = record;
    put_bytes(&l, text, (size_t)snprintf(text, sizeof text, "%s%llu %llu", prefix, (unsigned long long)st.st_dev,
                                          (unsigned long long)st.st_ino));
    send_line(&l);
}

static void open_output(const struct plan *p, enum step step, int target, const char *path) {
    int fd = open_job_file(p, step, path, O_WRONLY | (p->append ? O_APPEND : 0));
    /* Truncation only now: a file that failed the checks stays untouched. */
    if (!p->append && ftruncate(fd, 0) != 0) FAIL(STEP_TRUNCATE, "s", path);
    move_fd(fd, target);
    close(fd);
    /* Which file the job's output is: blivetd shows it to the job's user only from this one. */
    report_file_id(REPORT_OUTPUT, target == STDOUT_FD ? "1 " : "2 ", target, step, path);
}

static int open_lockfile(const struct plan *p) {
    int fd = open_job_file(p, STEP_LOCKFILE, p->lockfile, O_RDWR);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) FAIL(STEP_LOCK, "s", p->lockfile);
    return fd;
}

static void write_pid(int fd, const char *path) {
    char text[24];
    int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) FAIL(STEP_PIDFILE_WRITE, "s", path);
    /* An explicit mode, whatever the umask: other tools read pidfiles. */
    if (fchmod(fd, 0644) != 0) FAIL(STEP_PIDFILE_WRITE, "s", path);
}

static int open_pidfile(const struct plan *p) {
    /* No truncation yet: the old content goes only once we know the new pid is ours to write. */
    int fd = open_job_file(p, STEP_PIDFILE, p->pidfile, O_WRONLY);
    report_file_id(REPORT_PIDFILE, "", fd, STEP_PIDFILE, p->pidfile);
    return fd;
}

/* chroot and chdir by the rule too: an O_PATH descriptor reached without a symbolic link, then
   fchdir. The chdir is resolved from the new root, as the job will see it. */
static void enter_directory(enum step step, const char *path) {
    int fd = open_by_rule(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0 || fchdir(fd) != 0) FAIL(step, "s", path);
    close(fd);
}

static void set_rlimits(const struct plan *p) {
    for (size_t i = 0; i < p->nrlimits; i++)
        if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) != 0) FAIL(STEP_SETRLIMIT, "s", p->rlimits[i].name);
}

static void drop_privileges(const struct plan *p) {
    const unsigned unchanged = ~0U;
    if (setgroups(p->ngroups, p->groups) != 0) FAIL(STEP_SETGROUPS, "");
    /* Real, effective and saved ids all, as setgid() and setuid() do for root. */
    if (setresgid(p->gid, p->gid, p->gid) != 0) FAIL(STEP_SETGID, "u", p->gid);
    if (setresuid(p->uid, p->uid, p->uid) != 0) FAIL(STEP_SETUID, "u", p->uid);
    /* Prove the drop cannot be undone: neither blivet nor daemonize2 checks this. */
    if (p->uid != 0 && (setresuid(0, 0, 0) == 0 || setresuid(unchanged, 0, unchanged) == 0))
        FAIL_CHECK(STEP_SETUID, CHECK_REGAINABLE, "u", p->uid);
    if (p->gid != 0 && p->uid != 0 && (setresgid(0, 0, 0) == 0 || setresgid(unchanged, 0, unchanged) == 0))
        FAIL_CHECK(STEP_SETGID, CHECK_REGAINABLE, "u", p->gid);
}

__attribute__((noreturn))
static void fail_exec(const char *path) {
    /* ENOENT for a file that is there: what is missing is its #! interpreter or its loader. */
    if (errno == ENOENT && faccessat(AT_FDCWD, path, F_OK, 0) == 0) FAIL_CHECK(STEP_EXEC, CHECK_INTERPRETER, "s", path);
    FAIL(STEP_EXEC, "s", path);
}

/* A bare name is looked up in the job's own PATH, as the job's user and as execvpe does (an empty
   entry is the working directory): blivetd leaves the search to us so that root never probes
   the file system on a client's behalf. */
__attribute__((noreturn))
static void exec_program(const struct plan *p) {
    if (strchr(p->exec, '/')) {
        execve(p->exec, (char *const *)p->argv, (char *const *)p->envp);
        fail_exec(p->exec);
    }
    const char *search = "/bin:/usr/bin"; /* execvpe's default, for an environment without PATH */
    for (size_t i = 0; i < p->envc; i++)
        if (strncmp(p->envp[i], "PATH=", 5) == 0) search = p->envp[i] + 5;
    size_t name_len = strlen(p->exec);
    bool denied = false;
    for (const char *dir = search;; dir++) {
        size_t dir_len = strcspn(dir, ":");
        char candidate[PATH_MAX];
        if (dir_len + 1 + name_len < sizeof candidate) { /* longer: no such file, as execvpe sees it */
            size_t n = dir_len ? dir_len : 1;
            memcpy(candidate, dir_len ? dir : ".", n);
            candidate[n++] = '/';
            memcpy(candidate + n, p->exec, name_len + 1);
            execve(candidate, (char *const *)p->argv, (char *const *)p->envp);
            if (errno == EACCES) denied = true;
            else if (errno != ENOENT && errno != ENOTDIR) fail_exec(candidate);
        }
        dir += dir_len;
        if (*dir == '\0') break;
    }
    errno = denied ? EACCES : ENOENT;
    FAIL(STEP_SEARCH, "ss", p->exec, search);
}

static void sort_ints(int *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* Moves this process into the job's cgroup (blivetd made it and checked it is cgroup v2) before
   the fork, so the daemon is born inside it and nothing it forks, setsid or not, can be outside:
   "0" is the writer itself. The fd goes at once; the job never sees it. */
static void join_cgroup(void) {
    int fd = openat(CGROUP_FD, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || write(fd, "0", 1) != 1) FAIL(STEP_CGROUP, "");
    close(fd);
    close(CGROUP_FD);
}

/* Forks the daemon straight into the job's cgroup (clone3 with CLONE_INTO_CGROUP, Linux 5.7):
   it is born there, as after join_cgroup, but no process migrates. A migration (a write to
   cgroup.procs) takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
   grace period whenever none passed recently: 5-11 ms for a start after a quiet second on the
   machines of docs/benchmarks.md ("Issue 13"), against 0.1-0.3 ms for the clone. Where the
   kernel refuses it (older than 5.7, or any other error), the join and a plain fork do the same
   job and report the same steps and errnos as they always did. Like fork() in a single-threaded
   program, except that the C library's cached thread id stays the parent's: nothing this program
   calls afterwards reads it as anything but an owner mark (musl's locks; glibc asks the kernel). */
static pid_t fork_into_cgroup(bool cgroup) {
    if (cgroup) {
        struct clone_args_ args = { .flags = CLONE_INTO_CGROUP_, .exit_signal = SIGCHLD, .cgroup = CGROUP_FD };
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) {
            close(CGROUP_FD); /* in both: the daemon never sees it */
            return (pid_t)pid;
        }
        join_cgroup();
    }
    return fork();
}

/* The daemon: runs as the grandchild of blivetd, reparented to it (blivetd is a subreaper). */
__attribute__((noreturn))
static void become_daemon(const struct plan *p) {
    umask(p->umask);
    redirect_null(STDIN_FD, O_RDONLY);
    if (p->drop) take_file_identity(p);

    /* Lock first: a second instance must fail before it touches the pidfile or the output files. */
    int lock_fd = p->lockfile ? open_lockfile(p) : -1;
    bool pid_via_lock = p->pidfile && p->lockfile && strcmp(p->pidfile, p->lockfile) == 0;

    if (p->stdout_path) open_output(p, STEP_STDOUT, STDOUT_FD, p->stdout_path);
    else redirect_null(STDOUT_FD, O_WRONLY);
    if (p->stderr_path && p->stdout_path && strcmp(p->stderr_path, p->stdout_path) == 0) {
        move_fd(STDOUT_FD, STDERR_FD);
        report_file_id(REPORT_OUTPUT, "2 ", STDERR_FD, STEP_STDERR, p->stderr_path);
    } else if (p->stderr_path) open_output(p, STEP_STDERR, STDERR_FD, p->stderr_path);
    else redirect_null(STDERR_FD, O_WRONLY);

    /* Opened now, with host paths; the pid is written last, once nothing can fail. */
    int pid_fd = p->pidfile ? (pid_via_lock ? lock_fd : open_pidfile(p)) : -1;
    if (pid_via_lock) report_file_id(REPORT_PIDFILE, "", lock_fd, STEP_PIDFILE, p->pidfile);

    /* chroot after the files (their paths are the host's, as blivetd sees them), before the drop. */
    if (p->chroot) {
        enter_directory(STEP_CHROOT, p->chroot);
        if (chroot(".") != 0) FAIL(STEP_CHROOT, "s", p->chroot);
    }
    enter_directory(STEP_CHDIR, p->chdir);

    /* Root may give its jobs limits beyond what their users could set; a client gets only its own. */
    if (!p->client_job) set_rlimits(p);
    if (p->drop) drop_privileges(p);
    if (p->client_job) set_rlimits(p);
    if (pid_fd >= 0) {
        write_pid(pid_fd, p->pidfile);
        if (!pid_via_lock) close(pid_fd); /* before the notify fd's dup2 could land on its number */
    }

    /* Final fd layout: 0-2, the lock (held across exec), the notify fd, the report pipe. */
    int keep[3]; /* notify fd, lock, report pipe */
    size_t nkeep = 0;
    if (p->notify_fd >= 0) {
        if (lock_fd == p->notify_fd) {
            int moved = fcntl(lock_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) FAIL(STEP_FCNTL, "d", lock_fd);
            lock_fd = moved; /* the old number is overwritten by dup2 below */
        }
        if (report_fd == p->notify_fd) {
            int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) FAIL(STEP_FCNTL, "d", report_fd);
            report_fd = moved;
        }
        if (p->notify_fd != READY_FD) move_fd(READY_FD, p->notify_fd);
        else set_cloexec(READY_FD, false);
        keep[nkeep++] = p->notify_fd;
    }
    if (lock_fd >= 0) {
        set_cloexec(lock_fd, false);
        keep[nkeep++] = lock_fd;
    }
    keep[nkeep++] = report_fd;
    sort_ints(keep, nkeep);
    close_fds_except(keep, nkeep);

    report_number(REPORT_EXEC, getpid());
    exec_program(p);
}

int main(void) {
    reset_signals();
    /* Whatever the JVM leaked past posix_spawn goes before we read anything. */
    if (fcntl(REPORT_FD, F_GETFD) < 0) _exit(HELPER_FAILED); /* nowhere to report: not started by blivetd */
    close_fds_from(CGROUP_FD + 1);
    set_cloexec(REPORT_FD, true);
    if (fcntl(READY_FD, F_GETFD) >= 0) set_cloexec(READY_FD, true);
    if (fcntl(CGROUP_FD, F_GETFD) >= 0) set_cloexec(CGROUP_FD, true);

    size_t len;
    char *buf = read_plan(&len);
    struct plan plan;
    memset(&plan, 0, sizeof plan);
    parse_plan(buf, len, &plan);
    if (!plan.cgroup) close(CGROUP_FD); /* not ours to keep: only blivetd hands it over, with "cgroup=1" */

    /* Never fork the job once the blivetd that spawned us is gone: the next one may have found
       the job's cgroup empty already and started it again, and it would run twice. The kernel
       kills us when the launch thread that spawned us ends; a death before the prctl shows as
       a parent other than the one the plan names (docs/architecture.md, "Custody: the ledger"). */
    if (plan.parent > 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) FAIL(STEP_PARENT, "");
        pid_t parent = getppid();
        if (parent != plan.parent) FAIL_CHECK(STEP_PARENT, CHECK_PARENT_GONE, "d", (int)parent);
    }
    if (setsid() < 0) FAIL(STEP_SETSID, "");
    pid_t daemon_pid = fork_into_cgroup(plan.cgroup);
    if (daemon_pid < 0) FAIL(STEP_FORK, "");
    if (daemon_pid > 0) {
        /* The intermediate exits: the daemon is not a session leader, so it can never acquire a
           controlling terminal, and blivetd (a subreaper) becomes its parent. */
        report_number(REPORT_FORKED, daemon_pid);
        _exit(0);
    }
    become_daemon(&plan);
}
