package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.SocketPaths;
import dev.blivet.common.protocol.ErrorCode;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One connection to blivetd over its Unix socket ({@link Link}): requests out as JSON lines,
 * responses and stream events in. Every failure is a {@link CliException} that says what to do
 * next.
 */
final class ControlClient implements AutoCloseable {
    /** A reply line longer than this is not blivetd talking. */
    private static final int MAX_LINE = 64 << 20;

    private final Path socket;
    private final Link link;
    private byte[] buffer = new byte[16 * 1024];
    /** Unread bytes are buffer[start, end). */
    private int start;
    private int end;
    private int nextId = 1;

    private ControlClient(Path socket, Link link) {
        this.socket = socket;
        this.link = link;
    }

    /**
     * A link to the socket: {@link NativeSocket} where its library loaded, else the JDK's
     * channel, opened ahead if this run's {@link Ahead} did.
     */
    private static Link open(Path socket, Ahead ahead) throws CliException, IOException {
        if (NativeSocket.available()) {
            return NativeSocket.connect(socket);
        }
        SocketChannel channel;
        try {
            SocketChannel opened = ahead != null ? ahead.channel() : null;
            channel = opened != null ? opened : ChannelLink.newChannel();
        } catch (IOException e) {
            throw new CliException(CliExit.ERROR, "cannot create a Unix socket: " + e.getMessage(), e);
        }
        return ChannelLink.connect(channel, socket);
    }

    /**
     * @param origin where the path came from, for the message if nothing answers there
     *     ("--socket", "$BLIVETD_SOCKET", "the default for uid 1000")
     * @param ahead this run's work ahead, which may have opened the channel, or null
     */
    static ControlClient connect(Path socket, String origin, Ahead ahead) throws CliException {
        try {
            return new ControlClient(socket, open(socket, ahead));
        } catch (IOException | RuntimeException e) {
            throw cannotConnect(socket, origin, e);
        }
    }

    private static CliException cannotConnect(Path socket, String origin, Exception e) {
        String reason = String.valueOf(e.getMessage());
        if (reason.contains("Permission denied")) {
            int uid = Uid.effective();
            return new CliException(CliExit.PERMISSION_DENIED, "cannot connect to blivetd at " + socket
                    + ": permission denied. You are " + Uid.describe(uid) + ", and the socket or a directory above it"
                    + " does not let you in: run as the user blivetd runs as (or root), or start your own blivetd"
                    + " (bin/blivetd) and use its socket (--socket PATH or $BLIVETD_SOCKET).", e);
        }
        String why;
        if (reason.contains("Connection refused")) {
            why = "nothing listens there (a socket file is left over from a blivetd that is gone)";
        } else if (!Files.exists(socket)) {
            why = "there is no socket there";
        } else {
            why = reason;
        }
        Path system = Path.of(SocketPaths.ROOT_SOCKET);
        String elsewhere = origin.startsWith("the default") && !socket.equals(system) && Files.exists(system)
                ? "\n  A system blivetd listens at " + system + ": --socket " + system + ", or export BLIVETD_SOCKET="
                        + system + "."
                : "";
        return new CliException(CliExit.UNREACHABLE, "blivetd is not reachable at " + socket + " (" + origin + "): "
                + why + ".\n"
                + "  Start it: bin/blivetd (from the source tree) or systemctl start blivetd;\n"
                + "  or, if it listens elsewhere, say where: --socket PATH or BLIVETD_SOCKET=PATH." + elsewhere, e);
    }

    Path socket() {
        return socket;
    }

    /** A request object with its id and op, for the caller to add fields to. */
    ObjectNode request(String op) {
        ObjectNode request = Json.object();
        request.put("id", nextId++);
        request.put("op", op);
        return request;
    }

    /** Sends the request and returns its result, or throws blivetd's error as a CliException. */
    JsonNode call(ObjectNode request) throws CliException {
        send(request);
        JsonNode response = next();
        if (response == null) {
            throw new CliException(CliExit.UNREACHABLE, "blivetd at " + socket + " closed the connection without"
                    + " answering (did it stop? its log says why)");
        }
        if (response.path("ok").asBoolean(false)) {
            JsonNode result = response.get("result");
            if (result == null) {
                throw unexpected(response);
            }
            return result;
        }
        if (!(response.get("error") instanceof ObjectNode error) || !error.path("code").isTextual()) {
            throw unexpected(response);
        }
        CliExit exit = CliExit.of(ErrorCode.fromCode(error.get("code").asText()));
        return fail(exit, error);
    }

    private static JsonNode fail(CliExit exit, ObjectNode error) throws CliException {
        throw CliException.fromDaemon(exit, error.path("message").asText(error.get("code").asText()), error);
    }

    private static CliException unexpected(JsonNode response) {
        return new CliException(CliExit.ERROR, "blivetd sent an unexpected reply: " + response);
    }

    void send(ObjectNode request) throws CliException {
        try {
            link.write((Json.write(request) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CliException(CliExit.UNREACHABLE, "blivetd at " + socket + " closed the connection: "
                    + e.getMessage(), e);
        }
    }

    /** The next line blivetd sent, as JSON; null once it closed the connection. */
    JsonNode next() throws CliException {
        try {
            int scanned = start;
            while (true) {
                for (int i = scanned; i < end; i++) {
                    if (buffer[i] == '\n') {
                        JsonNode line = Json.parse(buffer, start, i - start);
                        start = i + 1;
                        return line;
                    }
                }
                scanned = end;
                if (end == buffer.length) {
                    makeRoom();
                    scanned -= start;
                    end -= start;
                    start = 0;
                }
                int n = link.read(buffer, end, buffer.length - end);
                if (n < 0) {
                    return null;
                }
                end += n;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CliException(CliExit.ERROR, "blivetd sent a line that is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CliException(CliExit.UNREACHABLE, "lost the connection to blivetd at " + socket + ": "
                    + e.getMessage(), e);
        }
    }

    /** Moves unread bytes to the front, growing the buffer when they fill it. */
    private void makeRoom() throws IOException {
        int unread = end - start;
        if (unread >= MAX_LINE) {
            throw new IOException("a reply line longer than " + MAX_LINE + " bytes");
        }
        byte[] target = unread > buffer.length / 2 ? new byte[buffer.length * 2] : buffer;
        System.arraycopy(buffer, start, target, 0, unread);
        buffer = target;
    }

    @Override
    public void close() {
        try {
            link.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
