package dev.blivet.daemon.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.Poller;
import dev.blivet.daemon.supervisor.Supervisor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * Listens on the Unix socket and gives each client a thread of its own (blocking I/O keeps the
 * code plain; clients are few and local). Limits keep one client or one user from starving the
 * others: {@value Protocol#MAX_CONNECTIONS} connections in all, {@value Protocol#MAX_CONNECTIONS_PER_USER} per
 * non-root uid (docs/security.md has why these numbers fit the heap).
 *
 * <p>The socket is 0666 when blivetd runs as root: every request is authorized by the caller's
 * uid from SO_PEERCRED, so any user may connect and act on its own jobs. A non-root blivetd's
 * socket is 0600: only its own user.
 *
 * <p>The socket may be inherited instead ({@link InheritedSocket}: from systemd, or from the keeper
 * that holds it across JVMs). It is then never bound, chmod'ed or removed here: its owner made it.
 * The acceptor polls the socket and a wake-up pipe, so it can stop accepting without shutting the
 * socket down, which would end it for every holder (docs/architecture.md, "Custody").
 */
public final class ControlServer implements AutoCloseable {
    /** An idle daemon keeps no client threads for long, but one: a burst of clients leaves nothing behind. */
    private static final int CLIENT_THREAD_KEEPALIVE_SECONDS = 5;
    /**
     * Client threads kept however long blivetd is idle: the next connection (an operator's
     * blivetctl after a quiet minute) is handed to a waiting thread instead of paying a thread's
     * creation (docs/benchmarks.md, "Issue 13"). It waits in the queue without a timeout: no wake-up.
     */
    private static final int CLIENT_THREADS_KEPT = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int ECONNABORTED = 103;

    private final Path path;
    private final NativeOs os;
    private final Log log;
    private final RequestHandler handler;
    private final Supervisor supervisor;
    private final Replies replies;
    /** null when the socket is inherited. */
    private final UnixServerSocketChannel server;
    private final int listenFd;
    private final int[] wake = new int[2];
    private final ThreadPoolExecutor clients;
    private final Map<Integer, AtomicInteger> perUser = new ConcurrentHashMap<>();
    /** Connections of every uid but root's, held below the total so root always gets in. */
    private final AtomicInteger nonRoot = new AtomicInteger();
    private final Follows follows = new Follows();
    private final Thread acceptor;
    private volatile boolean open = true;

    public ControlServer(Path path, NativeOs os, Log log, Supervisor supervisor, RequestHandler handler,
            ObjectMapper mapper) throws IOException {
        this(path, OptionalInt.empty(), os, log, supervisor, handler, mapper);
    }

    /** @param inherited the listening socket's fd when it was handed over ({@link InheritedSocket}) */
    public ControlServer(Path path, OptionalInt inherited, NativeOs os, Log log, Supervisor supervisor,
            RequestHandler handler, ObjectMapper mapper) throws IOException {
        this.path = path;
        this.os = os;
        this.log = log;
        this.supervisor = supervisor;
        this.replies = new Replies(mapper);
        this.handler = handler;
        boolean root = os.posix().geteuid() == 0;
        if (inherited.isPresent()) {
            this.server = null;
            this.listenFd = inherited.getAsInt();
        } else {
            clearStaleSocket();
            this.server = UnixServerSocketChannel.open();
            setCloexec(server.getFD());
            server.socket().bind(new UnixSocketAddress(path.toString()));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(root ? "rw-rw-rw-" : "rw-------"));
            this.listenFd = server.getFD();
        }
        if (os.libc().pipe2(wake, LinuxLibC.O_CLOEXEC) != 0) {
            throw new IOException("pipe2: " + os.strerror(os.errno()));
        }
        this.clients = new ThreadPoolExecutor(CLIENT_THREADS_KEPT, Protocol.MAX_CONNECTIONS, CLIENT_THREAD_KEEPALIVE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), task -> {
            Thread t = new Thread(task, "blivet-client");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "blivet-accept");
        acceptor.setDaemon(true);
    }

    /**
     * Starts answering. Clients that connected since the bind wait in the listen backlog, so the
     * daemon can finish loading its jobs first and never answer with half a picture.
     */
    public void start() {
        clients.prestartCoreThread(); // made now, so that not even the first client after boot waits for one
        acceptor.start();
        log.info("listening on " + path);
    }

    public Path path() {
        return path;
    }

    /** The listening socket, for the keeper to hold across JVMs. */
    public int listenFd() {
        return listenFd;
    }

    /** A socket left by a blivetd that died goes; a live one means another blivetd runs. */
    private void clearStaleSocket() throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!"socket".equals(fileType(path))) {
            throw new IOException(path + " exists and is not a socket; remove it or choose another --socket");
        }
        try (UnixSocketChannel probe = UnixSocketChannel.open(new UnixSocketAddress(path.toString()))) {
            throw new IOException("another blivetd is already listening on " + path);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("another blivetd")) {
                throw e;
            }
            Files.delete(path);
        }
    }

    private static String fileType(Path file) throws IOException {
        int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0140000 ? "socket" : "other";
    }

    private void setCloexec(int fd) {
        // jnr's socket() and accept() do not ask for SOCK_CLOEXEC; the spawn helper's closefrom
        // covers the instant before this.
        os.libc().fcntl(fd, F_SETFD, FD_CLOEXEC);
    }

    private void acceptLoop() {
        Poller poller = new Poller(os, listenFd, wake[0]);
        while (open) {
            UnixSocketChannel client = null;
            try {
                poller.awaitAny();
                if (!open || !poller.isReady(0)) {
                    continue;
                }
                int fd = os.libc().accept4(listenFd, null, null, LinuxLibC.SOCK_CLOEXEC);
                if (fd < 0) {
                    int errno = os.errno();
                    if (errno == LinuxLibC.EINTR || errno == LinuxLibC.EAGAIN || errno == ECONNABORTED) {
                        continue;
                    }
                    throw new IOException(os.strerror(errno));
                }
                client = UnixSocketChannel.fromFD(fd);
                admit(client);
            } catch (IOException e) {
                if (open) {
                    log.error("accept on " + path + ": " + e.getMessage());
                    pause(); // EMFILE and friends persist: pause rather than spin and flood the log
                }
            } catch (OutOfMemoryError e) {
                // No heap even to refuse with words: the client sees the close, the acceptor lives on.
                if (client != null) {
                    closeQuietly(client);
                }
                pause();
            }
        }
    }

    private static void pause() {
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
    }

    private void admit(UnixSocketChannel client) {
        Peer peer;
        try {
            Credentials credentials = client.getOption(UnixSocketOptions.SO_PEERCRED);
            peer = new Peer(credentials.getPid(), credentials.getUid(), credentials.getGid());
        } catch (IOException | RuntimeException e) {
            closeQuietly(client);
            return;
        }
        AtomicInteger count = perUser.computeIfAbsent(peer.uid(), uid -> new AtomicInteger());
        if (!peer.isRoot() && count.incrementAndGet() > Protocol.MAX_CONNECTIONS_PER_USER) {
            count.decrementAndGet();
            refuse(client, "uid " + peer.uid() + " already has " + Protocol.MAX_CONNECTIONS_PER_USER + " connections open");
            return;
        }
        if (!peer.isRoot() && nonRoot.incrementAndGet() > Protocol.MAX_CONNECTIONS - Protocol.CONNECTIONS_RESERVED_FOR_ROOT) {
            nonRoot.decrementAndGet();
            count.decrementAndGet();
            refuse(client, "blivetd already serves " + (Protocol.MAX_CONNECTIONS - Protocol.CONNECTIONS_RESERVED_FOR_ROOT)
                    + " connections of users other than root");
            return;
        }
        Runnable release = () -> {
            if (!peer.isRoot()) {
                count.decrementAndGet();
                nonRoot.decrementAndGet();
            }
        };
        try {
            clients.execute(new Connection(client, peer, handler, supervisor, replies, log, os, follows, release));
        } catch (RejectedExecutionException e) {
            release.run();
            refuse(client, "blivetd already serves " + Protocol.MAX_CONNECTIONS + " connections");
        } catch (OutOfMemoryError e) {
            // "unable to create native thread" at the task limit, or no heap: this client is refused,
            // blivetd and the clients it already serves go on (the executor undid the failed worker).
            release.run();
            log.warn("refused client pid " + peer.pid() + ": " + e.getMessage());
            refuse(client, "blivetd cannot take another client now (" + e.getMessage() + ")");
        }
    }

    private void refuse(UnixSocketChannel client, String why) {
        try {
            client.write(ByteBuffer.wrap(replies.line(replies.connectionRefused(why))));
        } catch (IOException e) {
            // it will see the close
        }
        closeQuietly(client);
    }

    private static void closeQuietly(UnixSocketChannel client) {
        try {
            client.close();
        } catch (IOException | OutOfMemoryError e) {
            // nothing more to do
        }
    }

    /**
     * No client is accepted after this returns; the socket stays open and bound, and clients that
     * connect wait in its backlog for whoever holds it next (the keeper's next JVM).
     */
    public void stopAccepting() {
        open = false;
        os.libc().write(wake[1], new byte[] {1}, 1);
        if (acceptor.isAlive() && Thread.currentThread() != acceptor) {
            try {
                acceptor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stopAccepting();
        if (server == null) {
            os.close(listenFd); // the socket's owner (systemd, the keeper) keeps it, and its name
        } else {
            try {
                server.close();
            } catch (IOException e) {
                // closing anyway
            }
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.warn("could not remove " + path + ": " + e.getMessage());
            }
        }
        os.close(wake[0]);
        os.close(wake[1]);
        clients.shutdownNow();
    }
}
