package dev.blivet.daemon.systemd;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.keeper.KeeperLink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/**
 * sd_notify(3) spoken in Java: datagrams of "KEY=value" lines to $NOTIFY_SOCKET, a path or, with a
 * leading '@', a name in the abstract namespace. No libsystemd: the kernel attaches the sender's
 * credentials that systemd checks, so a plain sendto is the whole protocol.
 *
 * <p>Never fatal and never blocking: the socket is non-blocking, so a systemd that does not read
 * costs a lost message, not a stuck supervisor loop (the watchdog ping is sent from it). The first
 * failure is logged; later ones are not, so a gone systemd does not fill the log.
 *
 * <p>Under the keeper, the keeper sends them: it is the unit's main process and the JVM is not,
 * so the unit takes notifications from its main process only (NotifyAccess=main) and a job in the
 * unit's cgroup cannot speak for blivetd (docs/security.md).
 *
 * <p>Without NOTIFY_SOCKET (not under systemd, or Type= other than notify) every call does nothing.
 */
public final class SdNotify implements AutoCloseable {
    /** One notification on its way: a datagram of our own, or the keeper's. */
    private interface Sender extends AutoCloseable {
        void send(byte[] message) throws IOException;

        @Override
        void close();
    }

    private final Sender sender;
    private final String shown;
    private final Log log;
    private boolean failed; // guarded by this

    private SdNotify(Sender sender, String shown, Log log) {
        this.sender = sender;
        this.shown = shown;
        this.log = log;
    }

    /**
     * Talks to $NOTIFY_SOCKET if set (and usable), through {@code keeper} when there is one that
     * relays, else to no one.
     */
    public static SdNotify fromEnvironment(Map<String, String> env, Optional<KeeperLink> keeper, Log log) {
        String socket = env.get(ServiceEnvironment.NOTIFY_SOCKET);
        if (socket == null || socket.isEmpty()) {
            return new SdNotify(null, null, log);
        }
        if (keeper.isPresent() && "1".equals(env.get(KeeperLink.NOTIFY_ENV))) {
            // The keeper checks the name itself and says so if it cannot use it. A keeper that
            // does not say it relays (one older than this JVM, until it is replaced) would drop
            // them: we then send our own, as before the relay.
            KeeperLink link = keeper.get();
            return new SdNotify(new Sender() {
                @Override
                public void send(byte[] message) throws IOException {
                    link.notify(message);
                }

                @Override
                public void close() {
                }
            }, socket + " (through the keeper)", log);
        }
        if (!socket.startsWith("/") && !socket.startsWith("@")) {
            log.warn("NOTIFY_SOCKET=" + socket + " is neither a path nor an abstract socket name (@NAME); systemd is"
                    + " not told of blivetd's state");
            return new SdNotify(null, null, log);
        }
        try {
            return new SdNotify(Datagrams.open(socket), socket, log);
        } catch (IOException e) {
            log.warn("cannot open a socket to tell systemd of blivetd's state (NOTIFY_SOCKET=" + socket + "): "
                    + e.getMessage());
            return new SdNotify(null, null, log);
        }
    }

    /** Without a keeper: datagrams of our own. */
    private static final class Datagrams implements Sender {
        private final UnixDatagramChannel channel;
        private final UnixSocketAddress target;

        private Datagrams(UnixDatagramChannel channel, UnixSocketAddress target) {
            this.channel = channel;
            this.target = target;
        }

        static Datagrams open(String socket) throws IOException {
            // jnr gives the kernel 2 + the name's length as the address's length, so a NUL first is
            // the abstract namespace, as sd_notify(3) maps '@', without a trailing NUL.
            String name = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
            UnixDatagramChannel channel = UnixDatagramChannel.open();
            channel.configureBlocking(false);
            return new Datagrams(channel, new UnixSocketAddress(name));
        }

        @Override
        public void send(byte[] message) throws IOException {
            if (channel.send(ByteBuffer.wrap(message), target) == 0) {
                throw new IOException("its queue is full");
            }
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing was waiting on it
            }
        }
    }

    /** Whether there is anyone to tell. */
    public boolean enabled() {
        return sender != null;
    }

    public void ready() {
        send("READY=1");
    }

    /**
     * A reload begins; {@link #ready} ends it. MONOTONIC_USEC lets systemd (253 and later) tell
     * this reload from an earlier one: System.nanoTime is CLOCK_MONOTONIC on Linux's HotSpot.
     */
    public void reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000);
    }

    public void stopping() {
        send("STOPPING=1");
    }

    public void watchdog() {
        send("WATCHDOG=1");
    }

    /** One line of free text for {@code systemctl status}; a newline would start another key. */
    public void status(String text) {
        send("STATUS=" + text.replace('\n', ' '));
    }

    /** Sends one datagram; any thread. */
    public synchronized void send(String message) {
        if (sender == null) {
            return;
        }
        try {
            sender.send(message.getBytes(StandardCharsets.UTF_8));
            failed = false;
        } catch (IOException | RuntimeException e) {
            if (!failed) {
                failed = true;
                log.warn("cannot tell systemd " + message.replace('\n', ' ') + " through NOTIFY_SOCKET=" + shown + ": "
                        + e.getMessage() + " (said once until a message gets through)");
            }
        }
    }

    @Override
    public synchronized void close() {
        if (sender != null) {
            sender.close();
        }
    }
}
