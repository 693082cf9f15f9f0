/*
 * blivetctl's connection to blivetd: an AF_UNIX stream socket for dev.blivet.ctl.NativeSocket.
 *
 * Why native: the JDK's own AF_UNIX channel sets up a SecureRandom, the security properties and
 * the SUN provider in its first use (sun.nio.ch.UnixDomainSockets' static initializer), which
 * cost a `blivetctl status` more than everything else it does (docs/benchmarks.md, "blivetctl:
 * start-up"). This file does what that channel does for a client and nothing else: connect,
 * read, write, close. Failures are IOExceptions with the messages the JDK's channel gives, so
 * blivetctl prints the same either way (NativeSocketTest compares them).
 */
#include <jni.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Bytes copied per read or write: the Java side loops. */
#define CHUNK 16384

static void throw_io(JNIEnv *env, const char *message) {
    jclass type = (*env)->FindClass(env, "java/io/IOException");
    if (type != NULL) {
        (*env)->ThrowNew(env, type, message);
    }
}

/* A connected socket's descriptor for the path's bytes, or -1 with an IOException pending. */
JNIEXPORT jint JNICALL Java_dev_blivet_ctl_NativeSocket_connect0(JNIEnv *env, jclass type, jbyteArray path) {
    (void) type;
    struct sockaddr_un address;
    jsize length = (*env)->GetArrayLength(env, path);
    /* The JDK's limit and message (room for the terminating NUL, and one byte more). */
    if (length > (jsize) sizeof address.sun_path - 2) {
        throw_io(env, "Unix domain path too long");
        return -1;
    }
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    (*env)->GetByteArrayRegion(env, path, 0, length, (jbyte *) address.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw_io(env, strerror(errno));
        return -1;
    }
    /* HotSpot's signal handlers are SA_RESTART, which restarts a blocking connect. */
    if (connect(fd, (struct sockaddr *) &address, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + length + 1)) < 0) {
        int error = errno;
        close(fd);
        throw_io(env, strerror(error));
        return -1;
    }
    return fd;
}

static void throw_bounds(JNIEnv *env) {
    jclass type = (*env)->FindClass(env, "java/lang/IndexOutOfBoundsException");
    if (type != NULL) (*env)->ThrowNew(env, type, "offset or length outside the array");
}

/* Whether buffer[offset, offset + len) lies in the array; throws IndexOutOfBoundsException if not. */
static int in_bounds(JNIEnv *env, jbyteArray buffer, jint offset, jint len) {
    jsize size = (*env)->GetArrayLength(env, buffer);
    if (offset < 0 || len < 0 || offset > size || len > size - offset) {
        throw_bounds(env);
        return 0;
    }
    return 1;
}

/* Up to len bytes into buffer[offset...]: the count, or -1 at the end of the stream. */
JNIEXPORT jint JNICALL Java_dev_blivet_ctl_NativeSocket_read0(JNIEnv *env, jclass type, jint fd, jbyteArray buffer,
        jint offset, jint len) {
    (void) type;
    char bytes[CHUNK];
    if (len <= 0) {
        return 0; /* as the JDK's channel does for no room; read(2) would say 0, the end */
    }
    if (!in_bounds(env, buffer, offset, len)) {
        return -1; /* before any byte is taken from the socket */
    }
    ssize_t n;
    do {
        n = read(fd, bytes, len < CHUNK ? (size_t) len : CHUNK);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* The JDK's channel says this for a peer that went away mid-reply. */
        throw_io(env, errno == ECONNRESET || errno == EPIPE ? "Connection reset" : strerror(errno));
        return -1;
    }
    if (n == 0) {
        return -1;
    }
    (*env)->SetByteArrayRegion(env, buffer, offset, (jsize) n, (const jbyte *) bytes);
    return (jint) n;
}

/* Writes some of buffer[offset, offset + len): the count written. */
JNIEXPORT jint JNICALL Java_dev_blivet_ctl_NativeSocket_write0(JNIEnv *env, jclass type, jint fd, jbyteArray buffer,
        jint offset, jint len) {
    (void) type;
    char bytes[CHUNK];
    if (!in_bounds(env, buffer, offset, len)) {
        return -1;
    }
    jint count = len < CHUNK ? len : CHUNK;
    (*env)->GetByteArrayRegion(env, buffer, offset, count, (jbyte *) bytes);
    if ((*env)->ExceptionCheck(env)) {
        return -1; /* never send bytes the array did not give */
    }
    ssize_t n;
    do {
        /* MSG_NOSIGNAL: a closed peer is an EPIPE error here, never a SIGPIPE. */
        n = send(fd, bytes, (size_t) count, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        throw_io(env, strerror(errno));
        return -1;
    }
    return (jint) n;
}

JNIEXPORT void JNICALL Java_dev_blivet_ctl_NativeSocket_close0(JNIEnv *env, jclass type, jint fd) {
    (void) env;
    (void) type;
    close(fd);
}
