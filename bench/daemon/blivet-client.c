/*
 * Raw socket client for the blivetd benchmarks (bench/daemon/run.sh). No JSON library: it sends
 * fixed request lines and only looks at the reply lines it needs to.
 *
 *   blivet-client rtt SOCKET CLIENTS REQUESTS WARMUP [NAME]
 *       CLIENTS threads, each with one persistent connection, send
 *       {"id":n,"op":"status","name":NAME} and read the reply, one at a time. Each first sends
 *       WARMUP/CLIENTS unmeasured requests; then all start together and send REQUESTS/CLIENTS
 *       measured ones. Prints one line: clients, requests, p50/p90/p99/max latency (ms), requests/s.
 *       Exits 1 if any reply is not {"id":n,"ok":true,...}.
 *
 *   blivet-client wait-running SOCKET COUNT T0 TIMEOUT_S INTERVAL_MS
 *       Polls {"op":"list"} (connecting again until the socket answers) until COUNT jobs are
 *       "running". T0 is the CLOCK_REALTIME instant the daemon was started, as bash's
 *       $EPOCHREALTIME (seconds.micros). Prints: first answer (ms after T0), all running (ms after
 *       T0), polls. Exits 1 on timeout.
 *
 *   blivet-client request SOCKET JSON
 *       Connects (a new connection, as a one-off blivetctl call makes), sends the request line
 *       JSON, reads the reply line. Prints: us=<connect to reply, microseconds> then the reply.
 *       Exits 1 unless the reply has "ok":true. For bench/daemon/issue13.sh's sporadic starts.
 *
 * Build: cc -O2 -Wall -Wextra -pthread -o blivet-client blivet-client.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "blivet-client: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "blivet-client: socket path too long\n");
        exit(2);
    }
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A growing buffer that hands out one '\n'-terminated line at a time. */
struct reader {
    int fd;
    char *buf;
    size_t cap, start, end;
};

static void reader_init(struct reader *r, int fd) {
    r->fd = fd;
    r->cap = 1 << 16;
    r->buf = malloc(r->cap);
    if (!r->buf) die("malloc");
    r->start = r->end = 0;
}

/* Returns the line (NUL-terminated, without '\n') or NULL on EOF/error. */
static char *read_line(struct reader *r, size_t *len) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            char *line = r->buf + r->start;
            *nl = '\0';
            *len = (size_t)(nl - line);
            r->start = (size_t)(nl - r->buf) + 1;
            return line;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == r->cap) {
            r->cap *= 2;
            r->buf = realloc(r->buf, r->cap);
            if (!r->buf) die("realloc");
        }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return NULL;
        r->end += (size_t)n;
    }
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- rtt ---- */

struct client {
    pthread_t thread;
    const char *path, *name;
    long warmup, requests;
    int64_t *lat;
    long errors;
    int64_t end_ns;
};

static pthread_barrier_t ready;
static int64_t start_ns;

/* One request and its reply; returns the round trip in ns, or -1 if the reply is wrong. */
static int64_t round_trip(int fd, struct reader *r, long id, const char *name) {
    char req[256], want[64];
    int n = snprintf(req, sizeof req, "{\"id\":%ld,\"op\":\"status\",\"name\":\"%s\"}\n", id, name);
    snprintf(want, sizeof want, "{\"id\":%ld,\"ok\":true,", id);
    int64_t t = now_ns(CLOCK_MONOTONIC);
    if (write_all(fd, req, (size_t)n) < 0) die("write");
    size_t len;
    char *line = read_line(r, &len);
    int64_t dt = now_ns(CLOCK_MONOTONIC) - t;
    if (!line) {
        fprintf(stderr, "blivet-client: connection closed by blivetd\n");
        exit(2);
    }
    if (strncmp(line, want, strlen(want)) != 0) {
        static int shown;
        if (!shown++) fprintf(stderr, "blivet-client: unexpected reply: %.300s\n", line);
        return -1;
    }
    return dt;
}

static void *client_main(void *arg) {
    struct client *c = arg;
    int fd = connect_to(c->path);
    if (fd < 0) die("connect");
    struct reader r;
    reader_init(&r, fd);
    long id = 1;
    for (long i = 0; i < c->warmup; i++)
        if (round_trip(fd, &r, id++, c->name) < 0) c->errors++;
    pthread_barrier_wait(&ready);
    for (long i = 0; i < c->requests; i++) {
        int64_t dt = round_trip(fd, &r, id++, c->name);
        if (dt < 0) c->errors++;
        c->lat[i] = dt < 0 ? 0 : dt;
    }
    c->end_ns = now_ns(CLOCK_MONOTONIC);
    close(fd);
    free(r.buf);
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct(const int64_t *sorted, long n, double p) {
    long i = (long)(p * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1e6;
}

static int rtt(const char *path, int clients, long requests, long warmup, const char *name) {
    long per = requests / clients, per_warm = warmup / clients;
    struct client *cs = calloc((size_t)clients, sizeof *cs);
    int64_t *all = malloc(sizeof(int64_t) * (size_t)(per * clients));
    if (!cs || !all) die("malloc");
    pthread_barrier_init(&ready, NULL, (unsigned)clients + 1);
    for (int i = 0; i < clients; i++) {
        cs[i] = (struct client){.path = path, .name = name, .warmup = per_warm, .requests = per,
                                .lat = all + (size_t)i * (size_t)per};
        if (pthread_create(&cs[i].thread, NULL, client_main, &cs[i]) != 0) die("pthread_create");
    }
    pthread_barrier_wait(&ready);
    start_ns = now_ns(CLOCK_MONOTONIC);
    long errors = 0;
    int64_t end = start_ns;
    for (int i = 0; i < clients; i++) {
        pthread_join(cs[i].thread, NULL);
        errors += cs[i].errors;
        if (cs[i].end_ns > end) end = cs[i].end_ns;
    }
    long n = per * clients;
    qsort(all, (size_t)n, sizeof *all, cmp64);
    double secs = (double)(end - start_ns) / 1e9;
    printf("clients=%d requests=%ld p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f rps=%.0f errors=%ld\n",
           clients, n, pct(all, n, 0.50), pct(all, n, 0.90), pct(all, n, 0.99), pct(all, n, 1.0),
           (double)n / secs, errors);
    return errors ? 1 : 0;
}

/* ---- wait-running ---- */

static long count(const char *s, const char *needle) {
    long n = 0;
    size_t k = strlen(needle);
    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += k;
    }
    return n;
}

static int wait_running(const char *path, long want, const char *t0_text, double timeout_s, long interval_ms) {
    int64_t t0 = (int64_t)(strtod(t0_text, NULL) * 1e6) * 1000LL; /* micros, as $EPOCHREALTIME */
    int64_t deadline = t0 + (int64_t)(timeout_s * 1e9);
    struct timespec pause = {.tv_sec = interval_ms / 1000, .tv_nsec = (interval_ms % 1000) * 1000000L};
    struct timespec retry = {.tv_sec = 0, .tv_nsec = 1000000L};
    int fd = -1;
    struct reader r = {0};
    long polls = 0, running = 0, id = 1;
    int64_t first = -1;
    for (;;) {
        if (now_ns(CLOCK_REALTIME) > deadline) {
            fprintf(stderr, "blivet-client: timeout: %ld of %ld running after %.0f s\n", running, want, timeout_s);
            return 1;
        }
        if (fd < 0) {
            fd = connect_to(path);
            if (fd < 0) {
                nanosleep(&retry, NULL);
                continue;
            }
            if (r.buf) free(r.buf);
            reader_init(&r, fd);
        }
        char req[64];
        int n = snprintf(req, sizeof req, "{\"id\":%ld,\"op\":\"list\"}\n", id++);
        size_t len;
        char *line = NULL;
        if (write_all(fd, req, (size_t)n) == 0) line = read_line(&r, &len);
        if (!line) {
            close(fd);
            fd = -1;
            nanosleep(&retry, NULL);
            continue;
        }
        polls++;
        if (first < 0) first = now_ns(CLOCK_REALTIME) - t0;
        if (!strstr(line, "\"ok\":true")) {
            fprintf(stderr, "blivet-client: list failed: %.300s\n", line);
            return 1;
        }
        running = count(line, "\"state\":\"running\"");
        if (running >= want) {
            int64_t all = now_ns(CLOCK_REALTIME) - t0;
            printf("first_answer_ms=%.1f all_running_ms=%.1f polls=%ld\n", (double)first / 1e6, (double)all / 1e6,
                   polls);
            close(fd);
            return 0;
        }
        nanosleep(&pause, NULL);
    }
}

/* ---- request ---- */

static int request(const char *path, const char *json) {
    int64_t t = now_ns(CLOCK_MONOTONIC);
    int fd = connect_to(path);
    if (fd < 0) die("connect");
    struct reader r = {0};
    reader_init(&r, fd);
    size_t len = strlen(json);
    if (write_all(fd, json, len) < 0 || write_all(fd, "\n", 1) < 0) die("write");
    char *line = read_line(&r, &len);
    int64_t dt = now_ns(CLOCK_MONOTONIC) - t;
    if (!line) {
        fprintf(stderr, "blivet-client: connection closed by blivetd\n");
        return 1;
    }
    printf("us=%.1f %s\n", (double)dt / 1e3, line);
    close(fd);
    return strstr(line, "\"ok\":true") ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "request") == 0) return request(argv[2], argv[3]);
    if (argc >= 6 && strcmp(argv[1], "rtt") == 0) {
        int clients = atoi(argv[3]);
        if (clients < 1) clients = 1;
        return rtt(argv[2], clients, atol(argv[4]), atol(argv[5]), argc > 6 ? argv[6] : "x");
    }
    if (argc == 7 && strcmp(argv[1], "wait-running") == 0)
        return wait_running(argv[2], atol(argv[3]), argv[4], atof(argv[5]), atol(argv[6]));
    fprintf(stderr, "usage: blivet-client rtt SOCKET CLIENTS REQUESTS WARMUP [NAME]\n"
                    "       blivet-client wait-running SOCKET COUNT T0 TIMEOUT_S INTERVAL_MS\n"
                    "       blivet-client request SOCKET JSON\n");
    return 2;
}
