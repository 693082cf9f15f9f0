package dev.blivet.daemon.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A raw protocol client, as a script would be: one JSON object per line each way. */
public final class Client implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SocketChannel channel;
    private final BufferedReader in;
    private int nextId = 1;

    public Client(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    }

    /** Sends {"id": n, "op": op, ...fields} and returns the response, checking the id echo. */
    public JsonNode call(String op, String fieldsJson) {
        int id = nextId++;
        String body = fieldsJson == null || fieldsJson.isBlank() ? "" : "," + fieldsJson;
        JsonNode response = raw("{\"id\":" + id + ",\"op\":\"" + op + "\"" + body + "}");
        if (response.get("id").asInt() != id) {
            throw new AssertionError("response for another id: " + response);
        }
        return response;
    }

    public JsonNode call(String op) {
        return call(op, null);
    }

    /** The result of a call that must succeed. */
    public JsonNode ok(String op, String fieldsJson) {
        JsonNode response = call(op, fieldsJson);
        if (!response.get("ok").asBoolean()) {
            throw new AssertionError(op + " failed: " + response);
        }
        return response.get("result");
    }

    public JsonNode raw(String line) {
        send(line + "\n");
        return read();
    }

    public void send(String text) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next line as JSON, or null at EOF. */
    public JsonNode read() {
        try {
            String line = in.readLine();
            return line == null ? null : JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
