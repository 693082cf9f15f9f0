/*
 * The protocol between blivetd and blivet-spawn: the C half of it. The Java half is
 * dev.blivet.daemon.launch.HelperProtocol and HelperFailure; HelperProtocolTest reads this file
 * and fails the build when the two disagree, so change both together. The test reads the lists
 * below line by line: keep one X(...) per line.
 */
#ifndef BLIVET_SPAWN_PROTOCOL_H
#define BLIVET_SPAWN_PROTOCOL_H

/* The plan starts with this and its NUL; a helper of another version refuses it. Keys are added
   without changing it: a helper accepts a plan without its newer keys (as from an older blivetd),
   and an older helper refuses a newer key by name (CHECK_KEY), so a mismatch fails a start, never
   runs one half-understood. */
#define PLAN_MAGIC "BLVT1"

/* The fds posix_spawn hands over (CGROUP_FD: the job's cgroup directory, with "cgroup=1"). */
enum { PLAN_FD = 3, REPORT_FD = 4, READY_FD = 5, CGROUP_FD = 6 };

/* The first letter of each report line. */
enum { REPORT_FORKED = 'F', REPORT_PIDFILE = 'I', REPORT_OUTPUT = 'O', REPORT_EXEC = 'P', REPORT_FAILED = 'E' };

/* sysexits' EX_SOFTWARE: how the helper exits when it fails, reported or not (blivetd reads the
   report, not this number, to say why). */
enum { HELPER_FAILED = 70 };

/* "key=value" records of the plan. */
#define PLAN_KEYS(X) \
    X(KEY_EXEC, "exec") \
    X(KEY_ARG, "arg") \
    X(KEY_ENV, "env") \
    X(KEY_UMASK, "umask") \
    X(KEY_CHROOT, "chroot") \
    X(KEY_CHDIR, "chdir") \
    X(KEY_STDOUT, "stdout") \
    X(KEY_STDERR, "stderr") \
    X(KEY_APPEND, "append") \
    X(KEY_LOCKFILE, "lockfile") \
    X(KEY_PIDFILE, "pidfile") \
    X(KEY_UID, "uid") \
    X(KEY_GID, "gid") \
    X(KEY_GROUP, "group") \
    X(KEY_RLIMIT, "rlimit") \
    X(KEY_NOTIFY_FD, "notify_fd") \
    X(KEY_CLIENT_JOB, "client_job") \
    X(KEY_RESOLVE, "resolve") \
    X(KEY_CGROUP, "cgroup") \
    X(KEY_PARENT, "parent")

/* What the helper was doing when it failed: the first word of an E line. */
#define STEPS(X) \
    X(STEP_PLAN, "plan") \
    X(STEP_MEMORY, "memory") \
    X(STEP_FCNTL, "fcntl") \
    X(STEP_DUP2, "dup2") \
    X(STEP_DEVNULL, "devnull") \
    X(STEP_SETSID, "setsid") \
    X(STEP_FORK, "fork") \
    X(STEP_STDOUT, "stdout") \
    X(STEP_STDERR, "stderr") \
    X(STEP_TRUNCATE, "truncate") \
    X(STEP_LOCKFILE, "lockfile") \
    X(STEP_LOCK, "lock") \
    X(STEP_PIDFILE, "pidfile") \
    X(STEP_PIDFILE_WRITE, "pidfile-write") \
    X(STEP_CHROOT, "chroot") \
    X(STEP_CHDIR, "chdir") \
    X(STEP_SETRLIMIT, "setrlimit") \
    X(STEP_SETGROUPS, "setgroups") \
    X(STEP_SETFSGID, "setfsgid") \
    X(STEP_SETFSUID, "setfsuid") \
    X(STEP_SETGID, "setgid") \
    X(STEP_SETUID, "setuid") \
    X(STEP_EXEC, "exec") \
    X(STEP_SEARCH, "search") \
    X(STEP_CGROUP, "cgroup") \
    X(STEP_PARENT, "parent")

/* Why, where no system call's errno says it: the second word of an E line (else the errno). */
#define CHECKS(X) \
    X(CHECK_NOT_REGULAR, "not-regular") \
    X(CHECK_LINKS, "links") \
    X(CHECK_OWNER, "owner") \
    X(CHECK_RECREATED, "recreated") \
    X(CHECK_INEFFECTIVE, "ineffective") \
    X(CHECK_REGAINABLE, "regainable") \
    X(CHECK_INTERPRETER, "interpreter") \
    X(CHECK_MAGIC, "magic") \
    X(CHECK_SIZE, "size") \
    X(CHECK_SHORT, "short") \
    X(CHECK_UNTERMINATED, "unterminated") \
    X(CHECK_ITEMS, "items") \
    X(CHECK_RECORD, "record") \
    X(CHECK_KEY, "key") \
    X(CHECK_NUMBER, "number") \
    X(CHECK_RANGE, "range") \
    X(CHECK_RLIMIT, "rlimit") \
    X(CHECK_RLIMIT_NAME, "rlimit-name") \
    X(CHECK_RLIMITS, "rlimits") \
    X(CHECK_INCOMPLETE, "incomplete") \
    X(CHECK_CLIENT_JOB, "client-job") \
    X(CHECK_NOTIFY_FD, "notify-fd") \
    X(CHECK_RESOLVE, "resolve") \
    X(CHECK_CGROUP_FD, "cgroup-fd") \
    X(CHECK_PARENT_GONE, "parent-gone")

/* The resource limits a plan may set, by the names setrlimit(2) gives them without RLIMIT_. */
#define RLIMITS(X) \
    X("as", RLIMIT_AS) \
    X("core", RLIMIT_CORE) \
    X("cpu", RLIMIT_CPU) \
    X("data", RLIMIT_DATA) \
    X("fsize", RLIMIT_FSIZE) \
    X("locks", RLIMIT_LOCKS) \
    X("memlock", RLIMIT_MEMLOCK) \
    X("msgqueue", RLIMIT_MSGQUEUE) \
    X("nice", RLIMIT_NICE) \
    X("nofile", RLIMIT_NOFILE) \
    X("nproc", RLIMIT_NPROC) \
    X("rss", RLIMIT_RSS) \
    X("rtprio", RLIMIT_RTPRIO) \
    X("rttime", RLIMIT_RTTIME) \
    X("sigpending", RLIMIT_SIGPENDING) \
    X("stack", RLIMIT_STACK)

#endif
