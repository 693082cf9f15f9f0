package dev.blivet.daemon.systemd;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.Client;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;

/**
 * systemd's side of sd_notify for a test: a datagram socket (a path, or an abstract name) whose
 * messages are recorded in order. On READY=1 it pings blivetd's socket at once, as a client that
 * systemd let through would, and records whether blivetd answered.
 */
final class NotifyStandIn implements AutoCloseable {
    private static final String QUIT = "QUIT-STAND-IN";
    /** What the stand-in read: one datagram, when, and (for READY=1) whether blivetd's socket answered then. */
    record Message(String text, long nanos, boolean answered) {
        boolean has(String line) {
            return List.of(text.split("\n")).contains(line);
        }
    }

    private final String env;
    private final UnixSocketAddress address;
    private final UnixDatagramChannel channel;
    private final Path daemonSocket;
    private final List<Message> messages = new ArrayList<>();
    private final Thread reader;

    /** @param name a path, or "@name" for the abstract namespace: the NOTIFY_SOCKET value */
    NotifyStandIn(String name, Path daemonSocket) throws IOException {
        this.env = name;
        this.daemonSocket = daemonSocket;
        this.address = new UnixSocketAddress(name.startsWith("@") ? "\0" + name.substring(1) : name);
        this.channel = UnixDatagramChannel.open();
        channel.bind(address);
        reader = new Thread(this::read, "notify-stand-in");
        reader.setDaemon(true);
        reader.start();
    }

    /** The NOTIFY_SOCKET value that reaches it. */
    String env() {
        return env;
    }

    private void read() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try {
            while (true) {
                buffer.clear();
                channel.receive(buffer);
                buffer.flip();
                String text = StandardCharsets.UTF_8.decode(buffer).toString();
                if (text.equals(QUIT)) {
                    return;
                }
                boolean answered = List.of(text.split("\n")).contains("READY=1") && answers();
                synchronized (messages) {
                    messages.add(new Message(text, System.nanoTime(), answered));
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    private boolean answers() {
        try (Client client = new Client(daemonSocket)) {
            return client.ok("ping", null).has("version");
        } catch (IOException | RuntimeException | AssertionError e) {
            return false;
        }
    }

    /** Sends {@code text} to itself: once it is recorded, everything sent before it is too. */
    void mark(String text) throws IOException {
        try (UnixDatagramChannel out = UnixDatagramChannel.open()) {
            out.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), address);
        }
    }

    List<Message> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    List<Message> with(String line) {
        return messages().stream().filter(m -> m.has(line)).toList();
    }

    /** The first message after index {@code from} that {@code test} accepts, once it arrived. */
    int await(int from, Predicate<Message> test, String what) {
        int[] found = {-1};
        Await.until(Duration.ofSeconds(60), () -> {
            List<Message> all = messages();
            for (int i = from; i < all.size(); i++) {
                if (test.test(all.get(i))) {
                    found[0] = i;
                    return true;
                }
            }
            return false;
        }, what + " (got " + messages() + ")");
        return found[0];
    }

    @Override
    public void close() throws IOException {
        mark(QUIT);
        try {
            reader.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.close();
    }
}
