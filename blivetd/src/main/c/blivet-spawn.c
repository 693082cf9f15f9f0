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
 *   I<dev> <ino>\n      the pidfile the daemon opened (st_dev as glibc encodes it): blivetd
 *                       removes a pidfile only while its name still refers to this file
 *   P<pid>\n            the daemon is about to execve (a positive report: EOF alone is not success)
 *   E<code> <message>\n a failure; <code> is a sysexits value, the process then _exits with it
 * The pipe is close-on-exec, so EOF after P means execve succeeded.
 *
 * No C library. Every job start runs this program once, and a C library's start-up is most of
 * what a short program costs: glibc's alone measured 0.7 ms of the 0.8 ms a do-nothing program
 * took from posix_spawn to exit on a 2-vCPU KVM guest (it probes the CPU's caches with cpuid,
 * each one a trap to the hypervisor), against 0.09 ms for this file's way. So the program makes
 * its own system calls (x86-64 and aarch64), takes only constants and struct layouts from the
 * kernel's headers, and is built with -ffreestanding -nostdlib -static (blivetd/pom.xml). Being
 * single-threaded, it needs none of what glibc adds around set*id, fork and signals.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/resource.h>
#include <linux/signal.h>
#include <linux/stat.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "blivet-spawn makes its own system calls for x86-64 and aarch64 only"
#endif

/* sysexits values; the Java side defines the same numbers once in common/ExitCode. */
enum {
    EX_USAGE_ = 64, EX_NOINPUT_ = 66, EX_NOUSER_ = 67, EX_UNAVAILABLE_ = 69,
    EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_CANTCREAT_ = 73, EX_NOPERM_ = 77
};

enum { PLAN_FD = 3, REPORT_FD = 4, READY_FD = 5 };
enum { STDIN_FD = 0, STDOUT_FD = 1, STDERR_FD = 2 };
enum { KERNEL_NSIG = 64, KERNEL_SIGSET_SIZE = 8 }; /* the kernel's signals and sigset_t on both architectures */
enum { MAX_PLAN = 16 << 20, MAX_ITEMS = 65536, MAX_RLIMITS = 16 };
static const char PLAN_MAGIC[] = "BLVT1"; /* sizeof includes the NUL that ends it in the plan */

/* ---- entry point: the kernel starts us here with the stack as execve left it ---- */

__attribute__((noreturn, used)) void helper_main(void);

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"      /* the outermost frame, for debuggers */
        "    and $-16, %rsp\n"      /* the ABI's call alignment */
        "    call helper_main\n"
        "    hlt\n");
#else
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    bl helper_main\n"      /* sp is 16-byte aligned at entry on aarch64 */
        "    brk #0\n");
#endif

/* ---- system calls ---- */

static int errno_; /* what the last failed call returned, as the C library's errno would hold it */

static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
#endif
}

/* The kernel returns -errno; callers get -1 and errno_, as from the C library. */
static long checked(long ret) {
    if (ret < 0 && ret > -4096) {
        errno_ = (int)-ret;
        return -1;
    }
    return ret;
}

#define SYSCALL(nr, a, b, c, d, e, f) \
    checked(raw_syscall((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

__attribute__((noreturn))
static void sys_exit(int code) {
    for (;;) raw_syscall(__NR_exit_group, code, 0, 0, 0, 0, 0);
}
static long sys_write(int fd, const void *buf, size_t n) { return SYSCALL(__NR_write, fd, buf, n, 0, 0, 0); }
static long sys_pread(int fd, void *buf, size_t n, long off) { return SYSCALL(__NR_pread64, fd, buf, n, off, 0, 0); }
static long sys_pwrite(int fd, const void *buf, size_t n, long off) { return SYSCALL(__NR_pwrite64, fd, buf, n, off, 0, 0); }
static int sys_open(const char *path, int flags, unsigned mode) { return (int)SYSCALL(__NR_openat, AT_FDCWD, path, flags, mode, 0, 0); }
static int sys_close(int fd) { return (int)SYSCALL(__NR_close, fd, 0, 0, 0, 0, 0); }
static int sys_close_range(unsigned first, unsigned last) { return (int)SYSCALL(__NR_close_range, first, last, 0, 0, 0, 0); }
static int sys_fcntl(int fd, int cmd, long arg) { return (int)SYSCALL(__NR_fcntl, fd, cmd, arg, 0, 0, 0); }
static int sys_dup2(int fd, int target) {
    /* dup3 refuses equal numbers, where dup2 only checks that fd is open. */
    if (fd == target) return sys_fcntl(fd, F_GETFD, 0) < 0 ? -1 : target;
    return (int)SYSCALL(__NR_dup3, fd, target, 0, 0, 0, 0);
}
static int sys_fstat(int fd, struct statx *st) {
    return (int)SYSCALL(__NR_statx, fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_SIZE | STATX_INO, st, 0);
}
static int sys_ftruncate(int fd, long length) { return (int)SYSCALL(__NR_ftruncate, fd, length, 0, 0, 0, 0); }
static int sys_fchmod(int fd, unsigned mode) { return (int)SYSCALL(__NR_fchmod, fd, mode, 0, 0, 0, 0); }
static int sys_fchown(int fd, unsigned uid, unsigned gid) { return (int)SYSCALL(__NR_fchown, fd, uid, gid, 0, 0, 0); }
static int sys_flock(int fd, int op) { return (int)SYSCALL(__NR_flock, fd, op, 0, 0, 0, 0); }
static bool path_exists(const char *path) { return SYSCALL(__NR_faccessat, AT_FDCWD, path, 0 /* F_OK */, 0, 0, 0) == 0; }
static unsigned sys_umask(unsigned mask) { return (unsigned)raw_syscall(__NR_umask, mask, 0, 0, 0, 0, 0); }
static int sys_chroot(const char *path) { return (int)SYSCALL(__NR_chroot, path, 0, 0, 0, 0, 0); }
static int sys_chdir(const char *path) { return (int)SYSCALL(__NR_chdir, path, 0, 0, 0, 0, 0); }
static int sys_setsid(void) { return (int)SYSCALL(__NR_setsid, 0, 0, 0, 0, 0, 0); }
static int sys_getpid(void) { return (int)raw_syscall(__NR_getpid, 0, 0, 0, 0, 0, 0); }
/* fork(): a clone that only asks for SIGCHLD at exit (aarch64 has no fork system call). */
static int sys_fork(void) { return (int)SYSCALL(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0); }
static int sys_setgroups(size_t n, const unsigned *groups) { return (int)SYSCALL(__NR_setgroups, n, groups, 0, 0, 0, 0); }
static int sys_setresgid(unsigned r, unsigned e, unsigned s) { return (int)SYSCALL(__NR_setresgid, r, e, s, 0, 0, 0); }
static int sys_setresuid(unsigned r, unsigned e, unsigned s) { return (int)SYSCALL(__NR_setresuid, r, e, s, 0, 0, 0); }
static int sys_setrlimit(int resource, const struct rlimit64 *limit) {
    return (int)SYSCALL(__NR_prlimit64, 0 /* this process */, resource, limit, 0, 0, 0);
}
static int sys_sigaction_default(int sig) {
    /* An all-zero kernel sigaction is SIG_DFL with no flags and an empty mask on both layouts. */
    unsigned long zero[4] = {0, 0, 0, 0};
    return (int)SYSCALL(__NR_rt_sigaction, sig, zero, 0, KERNEL_SIGSET_SIZE, 0, 0);
}
static int sys_unblock_all_signals(void) {
    unsigned long none = 0;
    return (int)SYSCALL(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, KERNEL_SIGSET_SIZE, 0, 0);
}
static void *sys_allocate(size_t bytes) {
    /* Zeroed pages; nothing is ever freed, the process is short-lived. */
    long p = SYSCALL(__NR_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == -1 ? NULL : (void *)p;
}
static int sys_execve(const char *path, const char *const *argv, const char *const *envp) {
    return (int)SYSCALL(__NR_execve, path, argv, envp, 0, 0, 0);
}

/* ---- the little of a C library this program needs ---- */

/* The compiler may emit calls to these four even in a freestanding program (GCC and Clang
   document it). The empty asm in each loop keeps it from recognising the loop as a memset or
   memcpy and calling the function from inside itself. */
#define NOT_AN_IDIOM() __asm__ volatile("" ::: "memory")
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) { *d++ = (unsigned char)c; NOT_AN_IDIOM(); }
    return dst;
}
void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) { *d++ = *s++; NOT_AN_IDIOM(); }
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) while (n--) { *d++ = *s++; NOT_AN_IDIOM(); }
    else while (n--) { d[n] = s[n]; NOT_AN_IDIOM(); }
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

static size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
static bool str_eq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}
static char *str_chr(char *s, char c) {
    for (; *s; s++) if (*s == c) return s;
    return NULL;
}

/* A bounded printf for the conversions this file uses: %s %d %u %ld %lu %lld %llu %zu %%. */
struct text { char *buf; size_t cap, len; };

static void put_char(struct text *t, char c) {
    if (t->len < t->cap) t->buf[t->len++] = c;
}
static void put_str(struct text *t, const char *s) {
    while (*s) put_char(t, *s++);
}
static void put_unsigned(struct text *t, unsigned long long v) {
    char digits[20];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) put_char(t, digits[--n]);
}
static void put_signed(struct text *t, long long v) {
    if (v < 0) {
        put_char(t, '-');
        put_unsigned(t, 0ULL - (unsigned long long)v);
    } else {
        put_unsigned(t, (unsigned long long)v);
    }
}

static size_t format_v(char *buf, size_t cap, const char *fmt, va_list ap) {
    struct text t = {buf, cap, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put_char(&t, *fmt); continue; }
        int longs = 0;
        bool size = false;
        fmt++;
        while (*fmt == 'l') longs++, fmt++;
        if (*fmt == 'z') size = true, fmt++;
        switch (*fmt) {
        case 's': put_str(&t, va_arg(ap, const char *)); break;
        case 'd':
            put_signed(&t, longs >= 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int));
            break;
        case 'u':
            put_unsigned(&t, size ? va_arg(ap, size_t) : longs >= 2 ? va_arg(ap, unsigned long long)
                             : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned));
            break;
        case '%': put_char(&t, '%'); break;
        default: return t.len; /* a conversion this file does not use: stop rather than misread ap */
        }
    }
    return t.len;
}

__attribute__((format(printf, 3, 4)))
static size_t format_text(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* glibc's wording, so messages read the same as any other tool's. */
static const char *error_text(int err) {
    static const char *const texts[] = {
        [EPERM] = "Operation not permitted", [ENOENT] = "No such file or directory",
        [ESRCH] = "No such process", [EINTR] = "Interrupted system call", [EIO] = "Input/output error",
        [ENXIO] = "No such device or address", [E2BIG] = "Argument list too long",
        [ENOEXEC] = "Exec format error", [EBADF] = "Bad file descriptor", [ECHILD] = "No child processes",
        [EAGAIN] = "Resource temporarily unavailable", [ENOMEM] = "Cannot allocate memory",
        [EACCES] = "Permission denied", [EFAULT] = "Bad address", [EBUSY] = "Device or resource busy",
        [EEXIST] = "File exists", [EXDEV] = "Invalid cross-device link", [ENODEV] = "No such device",
        [ENOTDIR] = "Not a directory", [EISDIR] = "Is a directory", [EINVAL] = "Invalid argument",
        [ENFILE] = "Too many open files in system", [EMFILE] = "Too many open files",
        [ENOTTY] = "Inappropriate ioctl for device", [ETXTBSY] = "Text file busy", [EFBIG] = "File too large",
        [ENOSPC] = "No space left on device", [ESPIPE] = "Illegal seek", [EROFS] = "Read-only file system",
        [EMLINK] = "Too many links", [EPIPE] = "Broken pipe", [ENAMETOOLONG] = "File name too long",
        [ENOLCK] = "No locks available", [ENOSYS] = "Function not implemented",
        [ELOOP] = "Too many levels of symbolic links", [EOVERFLOW] = "Value too large for defined data type",
        [ELIBBAD] = "Accessing a corrupted shared library", [EOPNOTSUPP] = "Operation not supported",
        [ESTALE] = "Stale file handle", [EDQUOT] = "Disk quota exceeded",
        /* What network, FUSE, encrypted and damaged file systems answer for a job's files. */
        [ENOTCONN] = "Transport endpoint is not connected", [ETIMEDOUT] = "Connection timed out",
        [EHOSTDOWN] = "Host is down", [EREMOTEIO] = "Remote I/O error", [EUCLEAN] = "Structure needs cleaning",
        [ENOKEY] = "Required key not available", [EKEYEXPIRED] = "Key has expired",
        [ENOMEDIUM] = "No medium found", [ECONNREFUSED] = "Connection refused",
    };
    if (err > 0 && (size_t)err < sizeof texts / sizeof texts[0] && texts[err]) return texts[err];
    /* As glibc words it, with the number that says which. */
    static char unknown[32];
    unknown[format_text(unknown, sizeof unknown - 1, "Unknown error %d", err)] = '\0';
    return unknown;
}

/* ---- reporting: every failure funnels through fail() ---- */

/* Moves only if the job asks for its notify fd at REPORT_FD's number. */
static int report_fd = REPORT_FD;

__attribute__((format(printf, 1, 2)))
static void report(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write: a short or failed write has nowhere better to be reported. */
    sys_write(report_fd, line, n);
}

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int code, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    msg[n] = '\0';
    for (char *c = msg; *c; c++) if (*c == '\n') *c = ' ';
    report("E%d %s", code, msg);
    sys_exit(code);
}

/* Kind-prefixed messages naming the culprit, with errno spelled out. */
#define FAIL_ERRNO(code, what, path) fail((code), "%s: %s: %s", (what), (path), error_text(errno_))

/* ---- plan ---- */

struct rlimit_entry { int resource; struct rlimit64 limit; const char *name; };

struct plan {
    const char *exec;
    const char **argv; size_t argc;
    const char **envp; size_t envc;
    unsigned umask;
    const char *chroot, *chdir;
    const char *stdout_path, *stderr_path;
    bool append;
    const char *lockfile, *pidfile;
    bool drop; unsigned uid; unsigned gid;
    bool files_as_user; /* drop before opening anything: the job was asked for by a non-root client */
    unsigned *groups; size_t ngroups;
    struct rlimit_entry rlimits[MAX_RLIMITS]; size_t nrlimits;
    int notify_fd; /* -1: none */
};

static char *read_plan(size_t *len) {
    struct statx st;
    if (sys_fstat(PLAN_FD, &st) != 0)
        fail(EX_SOFTWARE_, "internal error: no plan on fd %d: %s", PLAN_FD, error_text(errno_));
    if (st.stx_size == 0 || st.stx_size > MAX_PLAN)
        fail(EX_SOFTWARE_, "internal error: plan size %llu", (unsigned long long)st.stx_size);
    size_t size = (size_t)st.stx_size;
    char *buf = sys_allocate(size + 1);
    if (!buf) fail(EX_OSERR_, "os error: out of memory reading the plan");
    size_t got = 0;
    while (got < size) {
        long n = sys_pread(PLAN_FD, buf + got, size - got, (long)got);
        if (n < 0 && errno_ == EINTR) continue;
        if (n <= 0) fail(EX_SOFTWARE_, "internal error: reading the plan: %s", n < 0 ? error_text(errno_) : "short");
        got += (size_t)n;
    }
    buf[got] = '\0';
    sys_close(PLAN_FD);
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
    if (*value == '\0' || *c != '\0') fail(EX_SOFTWARE_, "internal error: bad number for %s: %s", key, value);
    return v;
}

static unsigned parse_id(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v >= 0xffffffffULL) fail(EX_SOFTWARE_, "internal error: %s out of range: %s", key, value); /* -1 means "unchanged" to the kernel */
    return (unsigned)v;
}

static int parse_fd(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v > 0x7fffffffULL) fail(EX_SOFTWARE_, "internal error: %s out of range: %s", key, value);
    return (int)v;
}

static unsigned long long parse_rlim(const char *value) {
    return str_eq(value, "infinity") ? RLIM64_INFINITY : parse_number("rlimit", value, 10);
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
        if (str_eq(table[i].name, name)) return table[i].resource;
    fail(EX_SOFTWARE_, "internal error: unknown rlimit %s", name);
}

/* "name:soft:hard" */
static void add_rlimit(struct plan *p, char *value) {
    if (p->nrlimits == MAX_RLIMITS) fail(EX_SOFTWARE_, "internal error: too many rlimits");
    char *soft = str_chr(value, ':');
    char *hard = soft ? str_chr(soft + 1, ':') : NULL;
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
    /* Zeroed, so argv[argc] and envp[envc] stay NULL. */
    p->argv = sys_allocate((items + 1) * sizeof *p->argv);
    p->envp = sys_allocate((items + 1) * sizeof *p->envp);
    p->groups = sys_allocate((items + 1) * sizeof *p->groups);
    if (!p->argv || !p->envp || !p->groups) fail(EX_OSERR_, "os error: out of memory parsing the plan");
    p->notify_fd = -1;

    for (char *rec = buf + sizeof PLAN_MAGIC, *next; rec < buf + len; rec = next) {
        next = rec + str_len(rec) + 1; /* before the '=' below becomes a NUL */
        char *value = str_chr(rec, '=');
        if (!value) fail(EX_SOFTWARE_, "internal error: plan record without '=': %s", rec);
        *value++ = '\0';
        const char *key = rec;
        if (str_eq(key, "exec")) p->exec = value;
        else if (str_eq(key, "arg")) p->argv[p->argc++] = value;
        else if (str_eq(key, "env")) p->envp[p->envc++] = value;
        else if (str_eq(key, "umask")) p->umask = (unsigned)parse_number(key, value, 8);
        else if (str_eq(key, "chroot")) p->chroot = value;
        else if (str_eq(key, "chdir")) p->chdir = value;
        else if (str_eq(key, "stdout")) p->stdout_path = value;
        else if (str_eq(key, "stderr")) p->stderr_path = value;
        else if (str_eq(key, "append")) p->append = str_eq(value, "1");
        else if (str_eq(key, "lockfile")) p->lockfile = value;
        else if (str_eq(key, "pidfile")) p->pidfile = value;
        else if (str_eq(key, "uid")) { p->drop = true; p->uid = parse_id(key, value); }
        else if (str_eq(key, "gid")) p->gid = parse_id(key, value);
        else if (str_eq(key, "group")) p->groups[p->ngroups++] = parse_id(key, value);
        else if (str_eq(key, "rlimit")) add_rlimit(p, value);
        else if (str_eq(key, "notify_fd")) p->notify_fd = parse_fd(key, value);
        else if (str_eq(key, "files_as_user")) p->files_as_user = str_eq(value, "1");
        else fail(EX_SOFTWARE_, "internal error: unknown plan key %s", key);
    }
    /* The pipe is only handed over for notify-fd jobs; without it, fd 5 is not ours. */
    if (p->exec == NULL || p->argc == 0 || p->chdir == NULL)
        fail(EX_SOFTWARE_, "internal error: plan lacks exec, argv or chdir");
    if (p->files_as_user && (!p->drop || p->chroot))
        fail(EX_SOFTWARE_, "internal error: files_as_user needs an identity and no chroot");
    if (p->notify_fd >= 0 && sys_fcntl(READY_FD, F_GETFD, 0) < 0)
        fail(EX_SOFTWARE_, "internal error: notify fd requested but fd %d is not open", READY_FD);
}

/* ---- steps ---- */

static void reset_signals(void) {
    /* Every signal, real-time ones included: SIG_IGN survives execve, and the JVM's spawning
       thread hands us its blocked set (glibc's own 32 and 33 too, which the JVM leaves ignored). */
    for (int sig = 1; sig <= KERNEL_NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) sys_sigaction_default(sig);
    sys_unblock_all_signals();
}

static void close_fds_from(int first) {
    if (sys_close_range((unsigned)first, ~0U) == 0) return;
    /* Kernels before 5.9: close what is actually open rather than looping to RLIMIT_NOFILE. */
    for (int fd = first; fd < 65536; fd++) sys_close(fd);
}

static void close_fds_except(const int *keep, size_t nkeep) {
    /* keep is sorted ascending, every entry > 2 */
    int next = 3;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] > next && sys_close_range((unsigned)next, (unsigned)keep[i] - 1) != 0)
            for (int fd = next; fd < keep[i]; fd++) sys_close(fd);
        next = keep[i] + 1;
    }
    close_fds_from(next);
}

static void set_cloexec(int fd, bool on, const char *what) {
    if (sys_fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", what);
}

static void set_status_flags(int fd, int set, int clear, const char *path) {
    int flags = sys_fcntl(fd, F_GETFL, 0);
    if (flags < 0 || sys_fcntl(fd, F_SETFL, (flags | set) & ~clear) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", path);
}

static void redirect(int target, const char *path, int flags, int code, const char *what) {
    int fd = sys_open(path, flags | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0) FAIL_ERRNO(code, what, path);
    if (sys_dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", path);
    if (fd != target) sys_close(fd);
}

/* Root opening a file that it will then chown to the job's user, often in a directory that user
   can write to: the open file must be a regular file with a single link (not a hardlink the
   user planted to /etc/shadow), and if it already existed, root's or the user's. O_NONBLOCK
   keeps a planted FIFO from stalling the start. Set only while files are opened as root for
   another user. */
static const struct plan *guarded;

static void check_opened(int fd, const char *what, const char *path) {
    if (!guarded) return;
    struct statx st;
    if (sys_fstat(fd, &st) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
    if (!S_ISREG(st.stx_mode)) fail(EX_CANTCREAT_, "%s: %s: not a regular file", what, path);
    if (st.stx_nlink != 1) fail(EX_CANTCREAT_, "%s: %s: has %lu hard links; refusing to chown it", what, path,
                                (unsigned long)st.stx_nlink);
    if (st.stx_uid != 0 && st.stx_uid != guarded->uid)
        fail(EX_CANTCREAT_, "%s: %s: belongs to uid %u, not to root or the job's user", what, path, (unsigned)st.stx_uid);
    set_status_flags(fd, 0, O_NONBLOCK, path);
}

static int guarded_flags(void) {
    return guarded ? O_NONBLOCK : 0;
}

/* Output files belong to the job: created 0644 less the job's umask. O_NOFOLLOW: as root, a
   symlink planted in a shared directory must not redirect our writes. */
static void open_output(int target, const char *path, bool append) {
    /* Truncation waits for the checks: a file that fails them must stay untouched. */
    int fd = sys_open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create output file", path);
    check_opened(fd, "cannot create output file", path);
    if (append) {
        set_status_flags(fd, O_APPEND, 0, path);
    } else {
        struct statx st;
        if (sys_fstat(fd, &st) == 0 && S_ISREG(st.stx_mode) && sys_ftruncate(fd, 0) != 0)
            FAIL_ERRNO(EX_CANTCREAT_, "cannot truncate output file", path);
    }
    if (sys_dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", path);
    sys_close(fd);
}

static int open_lockfile(const char *path) {
    int fd = sys_open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create lockfile", path);
    check_opened(fd, "cannot create lockfile", path);
    if (sys_flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno_ == EWOULDBLOCK) fail(EX_UNAVAILABLE_, "lock conflict: %s is held by another process", path);
        FAIL_ERRNO(EX_CANTCREAT_, "cannot lock lockfile", path);
    }
    return fd;
}

static void write_pid(int fd, int pid, const char *path) {
    char text[24];
    size_t n = format_text(text, sizeof text, "%d\n", pid);
    if (sys_ftruncate(fd, 0) != 0 || sys_pwrite(fd, text, n, 0) != (long)n)
        FAIL_ERRNO(EX_CANTCREAT_, "cannot write pidfile", path);
    /* An explicit mode, whatever the umask: other tools read pidfiles. */
    if (sys_fchmod(fd, 0644) != 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot chmod pidfile", path);
}

/* Tells blivetd which file the pidfile is, before anything could fail and leave it behind. */
static void report_file_id(int fd, const char *path) {
    struct statx st;
    if (sys_fstat(fd, &st) != 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot stat pidfile", path);
    unsigned long long major = st.stx_dev_major, minor = st.stx_dev_minor;
    /* glibc's makedev(), so that it equals st_dev as stat(2) reports it to Java */
    unsigned long long dev = ((major & 0xfffff000ULL) << 32) | ((major & 0xfffULL) << 8)
                             | ((minor & 0xffffff00ULL) << 12) | (minor & 0xffULL);
    report("I%llu %llu", dev, (unsigned long long)st.stx_ino);
}

static int open_pidfile(const char *path) {
    /* No O_TRUNC: the old content goes only once we know the new pid is ours to write. */
    int fd = sys_open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | guarded_flags(), 0644);
    if (fd < 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot create pidfile", path);
    check_opened(fd, "cannot create pidfile", path);
    report_file_id(fd, path);
    return fd;
}

static void chown_to_job(int fd, const struct plan *p, const char *what, const char *path) {
    if (sys_fchown(fd, p->uid, p->gid) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
}

static void drop_privileges(const struct plan *p) {
    const unsigned unchanged = ~0U;
    if (sys_setgroups(p->ngroups, p->groups) != 0) fail(EX_NOPERM_, "permission denied: setgroups: %s", error_text(errno_));
    /* Real, effective and saved ids all, as setgid() and setuid() do for root. */
    if (sys_setresgid(p->gid, p->gid, p->gid) != 0)
        fail(EX_NOPERM_, "permission denied: setgid(%u): %s", p->gid, error_text(errno_));
    if (sys_setresuid(p->uid, p->uid, p->uid) != 0)
        fail(EX_NOPERM_, "permission denied: setuid(%u): %s", p->uid, error_text(errno_));
    /* Prove the drop cannot be undone: neither blivet nor daemonize2 checks this. */
    if (p->uid != 0 && (sys_setresuid(0, 0, 0) == 0 || sys_setresuid(unchanged, 0, unchanged) == 0))
        fail(EX_NOPERM_, "permission denied: privileges could be regained after setuid(%u)", p->uid);
    if (p->gid != 0 && p->uid != 0 && (sys_setresgid(0, 0, 0) == 0 || sys_setresgid(unchanged, 0, unchanged) == 0))
        fail(EX_NOPERM_, "permission denied: group 0 could be regained after setgid(%u)", p->gid);
}

static void sort_ints(int *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* The daemon: runs as the grandchild of blivetd, reparented to it (blivetd is a subreaper). */
__attribute__((noreturn))
static void become_daemon(const struct plan *p) {
    /* Root's privileges only serve a job root asked for; anyone else's files are opened as them. */
    bool chown_files = p->drop && !p->files_as_user;
    if (p->files_as_user) drop_privileges(p);
    if (chown_files && p->uid != 0) guarded = p;
    sys_umask(p->umask);
    redirect(STDIN_FD, "/dev/null", O_RDONLY, EX_OSERR_, "os error: open");

    /* Lock first: a second instance must fail before it touches the pidfile or the output files. */
    int lock_fd = p->lockfile ? open_lockfile(p->lockfile) : -1;
    bool pid_via_lock = p->pidfile && p->lockfile && str_eq(p->pidfile, p->lockfile);

    if (p->stdout_path) open_output(STDOUT_FD, p->stdout_path, p->append);
    else redirect(STDOUT_FD, "/dev/null", O_WRONLY, EX_OSERR_, "os error: open");
    if (p->stderr_path && p->stdout_path && str_eq(p->stderr_path, p->stdout_path)) {
        if (sys_dup2(STDOUT_FD, STDERR_FD) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", p->stderr_path);
    } else if (p->stderr_path) {
        open_output(STDERR_FD, p->stderr_path, p->append);
    } else {
        redirect(STDERR_FD, "/dev/null", O_WRONLY, EX_OSERR_, "os error: open");
    }

    /* Opened now, as root and with host paths; the pid is written last, once nothing can fail. */
    int pid_fd = p->pidfile ? (pid_via_lock ? lock_fd : open_pidfile(p->pidfile)) : -1;
    if (pid_via_lock) report_file_id(lock_fd, p->pidfile);

    if (chown_files) {
        if (p->stdout_path) chown_to_job(STDOUT_FD, p, "cannot chown output file", p->stdout_path);
        if (p->stderr_path) chown_to_job(STDERR_FD, p, "cannot chown output file", p->stderr_path);
        if (pid_fd >= 0) chown_to_job(pid_fd, p, "cannot chown pidfile", p->pidfile);
        if (lock_fd >= 0 && !pid_via_lock) chown_to_job(lock_fd, p, "cannot chown lockfile", p->lockfile);
    }

    /* chroot after the files (their paths are the host's, as blivetd sees them), before the drop. */
    if (p->chroot && sys_chroot(p->chroot) != 0) FAIL_ERRNO(EX_OSERR_, "os error: chroot", p->chroot);
    if (sys_chdir(p->chdir) != 0) FAIL_ERRNO(EX_OSERR_, "os error: chdir", p->chdir);

    for (size_t i = 0; i < p->nrlimits; i++)
        if (sys_setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) != 0)
            fail(EX_OSERR_, "os error: setrlimit %s: %s", p->rlimits[i].name, error_text(errno_));

    if (chown_files) drop_privileges(p);
    if (pid_fd >= 0) {
        write_pid(pid_fd, sys_getpid(), p->pidfile);
        if (!pid_via_lock) sys_close(pid_fd); /* before the notify fd's dup2 could land on its number */
    }

    /* Final fd layout: 0-2, the lock (held across exec), the notify fd, the report pipe. */
    int keep[3]; /* notify fd, lock, report pipe */
    size_t nkeep = 0;
    if (p->notify_fd >= 0) {
        if (lock_fd == p->notify_fd) {
            int moved = sys_fcntl(lock_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", p->lockfile);
            lock_fd = moved; /* the old number is overwritten by dup2 below */
        }
        if (report_fd == p->notify_fd) {
            int moved = sys_fcntl(report_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) fail(EX_OSERR_, "os error: fcntl report pipe: %s", error_text(errno_));
            report_fd = moved;
        }
        if (p->notify_fd != READY_FD) {
            if (sys_dup2(READY_FD, p->notify_fd) < 0)
                fail(EX_OSERR_, "os error: dup2 notify fd %d: %s", p->notify_fd, error_text(errno_));
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
    sort_ints(keep, nkeep);
    close_fds_except(keep, nkeep);

    report("P%d", sys_getpid());
    sys_execve(p->exec, p->argv, p->envp);
    int err = errno_;
    if (err == EACCES || err == EPERM)
        fail(EX_NOPERM_, "permission denied: execve %s: %s (can the job's user search every directory on the way?)",
             p->exec, error_text(err));
    if (err == ENOENT && path_exists(p->exec))
        fail(EX_NOINPUT_, "cannot run program: %s: its interpreter (#! line) or dynamic loader does not exist", p->exec);
    fail(err == ENOENT ? EX_NOINPUT_ : EX_OSERR_, "%s: %s: %s", err == ENOENT ? "cannot run program" : "os error: execve",
         p->exec, error_text(err));
}

void helper_main(void) {
    reset_signals();
    /* Whatever the JVM leaked past posix_spawn goes before we read anything. */
    if (sys_fcntl(REPORT_FD, F_GETFD, 0) < 0) sys_exit(EX_SOFTWARE_); /* nowhere to report: not started by blivetd */
    close_fds_from(READY_FD + 1);
    set_cloexec(REPORT_FD, true, "report pipe");
    if (sys_fcntl(READY_FD, F_GETFD, 0) >= 0) set_cloexec(READY_FD, true, "notify pipe");

    size_t len;
    char *buf = read_plan(&len);
    struct plan plan;
    memset(&plan, 0, sizeof plan);
    parse_plan(buf, len, &plan);

    if (sys_setsid() < 0) fail(EX_OSERR_, "os error: setsid: %s", error_text(errno_));
    int daemon_pid = sys_fork();
    if (daemon_pid < 0) fail(EX_OSERR_, "os error: fork: %s", error_text(errno_));
    if (daemon_pid > 0) {
        /* The intermediate exits: the daemon is not a session leader, so it can never acquire a
           controlling terminal, and blivetd (a subreaper) becomes its parent. */
        report("F%d", daemon_pid);
        sys_exit(0);
    }
    become_daemon(&plan);
}
