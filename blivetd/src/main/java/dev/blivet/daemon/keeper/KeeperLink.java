package dev.blivet.daemon.keeper;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * The JVM's end of the link to blivet-keeper, its parent (docs/architecture.md, "Custody"): a
 * SOCK_SEQPACKET socketpair whose fd the keeper names in {@value #FD_ENV}. Messages are single
 * bytes, the keeper's MSG_* in blivet-keeper.c, but for {@link #NOTIFY}, which carries a
 * notification for systemd that the keeper sends on as its own (docs/architecture.md, "Custody").
 * One thread reads it, blocked until the keeper says something: no polling.
 */
public final class KeeperLink {
    public static final String FD_ENV = "BLIVET_KEEPER_FD";
    /** Set to 1 by a keeper that relays notifications ({@link #notify}); an older one does not. */
    public static final String NOTIFY_ENV = "BLIVET_KEEPER_NOTIFY";

    static final byte REGISTER = 'R';
    static final byte STOPPING = 'S';
    static final byte REEXEC = 'X';
    static final byte NOTIFY = 'N';
    /** The longest notification the keeper relays (its NOTIFY_MAX). */
    public static final int NOTIFY_MAX = 4096;
    static final byte ACCEPTED = 'A';
    static final byte EXITS = 'E';

    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    /** struct msghdr, struct iovec and a cmsghdr with two fds (CMSG_SPACE(8)) on 64-bit Linux. */
    private static final int MSGHDR_SIZE = 56;
    private static final int IOVEC_SIZE = 16;
    private static final int CMSG_TWO_FDS = 24;

    private final NativeOs os;
    private final int fd;
    private final Log log;
    private final CompletableFuture<Void> accepted = new CompletableFuture<>();
    private final List<Runnable> exitListeners = new CopyOnWriteArrayList<>();

    private KeeperLink(NativeOs os, int fd, Log log) {
        this.os = os;
        this.fd = fd;
        this.log = log;
    }

    /**
     * The link the environment names, once the kernel confirms it: a Unix seqpacket socket whose
     * other end our parent made. Anything else is ignored with a warning (blivetd then runs as
     * without a keeper), so a stray variable can never make us talk to a stranger. The variable is
     * removed, so no job inherits it.
     */
    public static Optional<KeeperLink> fromEnvironment(NativeOs os, Map<String, String> env, Log log) {
        String value = env.get(FD_ENV);
        if (value == null) {
            return Optional.empty();
        }
        os.posix().unsetenv(FD_ENV);
        int fd;
        try {
            fd = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            fd = -1;
        }
        SocketFacts facts = new SocketFacts(os);
        String why = fd < 3 ? "not an fd number above 2"
                : !facts.isUnix(fd, LinuxLibC.SOCK_SEQPACKET) ? "not a Unix seqpacket socket"
                : facts.peerPid(fd) != os.posix().getppid() ? "its other end is pid " + facts.peerPid(fd)
                        + ", not our parent (pid " + os.posix().getppid() + ")"
                : null;
        if (why != null) {
            log.warn(FD_ENV + "=" + value + " ignored: " + why + "; blivetd runs without its keeper");
            return Optional.empty();
        }
        os.libc().fcntl(fd, F_SETFD, FD_CLOEXEC);
        KeeperLink link = new KeeperLink(os, fd, log);
        Thread reader = new Thread(link::readLoop, "blivet-keeper-link");
        reader.setDaemon(true);
        reader.start();
        return Optional.of(link);
    }

    /**
     * Hands the keeper the listening socket and the exits directory (SCM_RIGHTS), which it keeps
     * for every later JVM, and waits for its answer.
     */
    public void register(int listenFd, int exitsDirFd, Duration timeout) throws IOException {
        // Zeroed: msg_name, msg_namelen and msg_flags stay 0 (the link is connected).
        Pointer message = Memory.allocateDirect(os.runtime(), MSGHDR_SIZE + IOVEC_SIZE + CMSG_TWO_FDS + 1, true);
        long iov = MSGHDR_SIZE;
        long control = iov + IOVEC_SIZE;
        long data = control + CMSG_TWO_FDS;
        message.putByte(data, REGISTER);
        message.putAddress(iov, message.address() + data);
        message.putLong(iov + 8, 1);
        message.putLong(control, CMSG_TWO_FDS); // cmsg_len = CMSG_LEN(2 * sizeof(int))
        message.putInt(control + 8, LinuxLibC.SOL_SOCKET);
        message.putInt(control + 12, LinuxLibC.SCM_RIGHTS);
        message.putInt(control + 16, listenFd);
        message.putInt(control + 20, exitsDirFd);
        message.putAddress(16, message.address() + iov); // msg_iov
        message.putLong(24, 1); // msg_iovlen
        message.putAddress(32, message.address() + control); // msg_control
        message.putLong(40, CMSG_TWO_FDS); // msg_controllen
        if (os.libc().sendmsg(fd, message, LinuxLibC.MSG_NOSIGNAL) != 1) {
            throw new IOException("cannot register with the keeper: " + os.strerror(os.errno()));
        }
        try {
            accepted.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("the keeper did not accept the registration within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while registering with the keeper");
        }
    }

    /** The keeper holds our listening socket: a JVM may go without the socket going. */
    public boolean registered() {
        return accepted.isDone() && !accepted.isCompletedExceptionally();
    }

    /** Our exit is a clean stop: the keeper exits with our status instead of starting another JVM. */
    public void stopping() throws IOException {
        send(STOPPING);
    }

    /** Our exit is a re-exec: the keeper starts the next JVM at once; the jobs stay. */
    public void reexec() throws IOException {
        send(REEXEC);
    }

    /**
     * Has the keeper send {@code message} to systemd's NOTIFY_SOCKET. Never blocks: a keeper that
     * does not read (stopped, say) costs the notification, not the supervisor's loop, which sends
     * the watchdog's.
     *
     * @throws IOException if the link refused it (full, closed), or it is longer than {@link #NOTIFY_MAX}
     */
    public void notify(byte[] message) throws IOException {
        if (message.length > NOTIFY_MAX) {
            throw new IOException("a notification of " + message.length + " bytes, more than " + NOTIFY_MAX);
        }
        Pointer buffer = Memory.allocateDirect(os.runtime(), MSGHDR_SIZE + IOVEC_SIZE + 1 + message.length, true);
        long iov = MSGHDR_SIZE;
        long data = iov + IOVEC_SIZE;
        buffer.putByte(data, NOTIFY);
        buffer.put(data + 1, message, 0, message.length);
        buffer.putAddress(iov, buffer.address() + data);
        buffer.putLong(iov + 8, 1 + message.length);
        buffer.putAddress(16, buffer.address() + iov); // msg_iov
        buffer.putLong(24, 1); // msg_iovlen
        if (os.libc().sendmsg(fd, buffer, LinuxLibC.MSG_NOSIGNAL | LinuxLibC.MSG_DONTWAIT) != 1 + message.length) {
            throw new IOException("the keeper's link refused it: " + os.strerror(os.errno()));
        }
    }

    /** {@code listener} runs on the link's thread whenever the keeper wrote exit records. */
    public void onExits(Runnable listener) {
        exitListeners.add(listener);
    }

    private void send(byte message) throws IOException {
        if (os.libc().write(fd, new byte[] {message}, 1) != 1) {
            throw new IOException("cannot write to the keeper: " + os.strerror(os.errno()));
        }
    }

    private void notifyExits() {
        for (Runnable listener : exitListeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.error("exit records listener: " + e);
            }
        }
    }

    private void readLoop() {
        byte[] message = new byte[1];
        while (true) {
            long n = os.libc().read(fd, message, 1);
            if (n < 0 && os.errno() == LinuxLibC.EINTR) {
                continue;
            }
            if (n <= 0) {
                // The keeper is gone: PR_SET_PDEATHSIG ends this JVM too, in a moment.
                log.error("the link to the keeper closed" + (n < 0 ? ": " + os.strerror(os.errno()) : ""));
                accepted.completeExceptionally(new IOException("the keeper closed the link"));
                return;
            }
            switch (message[0]) {
                case ACCEPTED -> accepted.complete(null);
                case EXITS -> notifyExits();
                default -> log.warn("the keeper sent an unknown message 0x" + Integer.toHexString(message[0] & 0xff));
            }
        }
    }
}
