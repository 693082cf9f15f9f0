package dev.blivet.ctl;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The training run for blivetctl's class-data sharing archive (built at package time with
 * {@code -XX:ArchiveClassesAtExit}): runs the everyday commands in one JVM against a stand-in
 * blivetd that answers with canned replies, so that the archive holds what those commands load.
 * Build-time only; not a command.
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(sink);
        System.setErr(sink);
        Path dir = Files.createTempDirectory("blivetctl-cds");
        Path socket = dir.resolve("blivetd.sock");
        Path spec = Files.writeString(dir.resolve("job.json"), "{\"name\":\"cds\",\"command\":[\"/bin/true\"]}");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread daemon = new Thread(() -> serve(server), "stand-in blivetd");
            daemon.setDaemon(true);
            daemon.start();
            String s = socket.toString();
            run("--help");
            run("--version");
            run("status", "--help");
            run("--socket", s, "status");
            run("--socket", s, "status", "web");
            run("--socket", s, "status", "--json");
            run("--socket", s, "list");
            run("--socket", s, "ping");
            run("--socket", s, "stop", "web");
            run("--socket", s, "start", spec.toString());
            run("--socket", s, "status", "nosuch");
            run("--socket", dir.resolve("nothing.sock").toString(), "status");
            run("validate", spec.toString());
            run("no-such-command");
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static void run(String... args) {
        Main.run(args);
    }

    private static void serve(ServerSocketChannel server) {
        while (true) {
            try (SocketChannel client = server.accept()) {
                StringBuilder pending = new StringBuilder();
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                while (client.read(buffer) >= 0) {
                    pending.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
                    buffer.clear();
                    int newline;
                    while ((newline = pending.indexOf("\n")) >= 0) {
                        String request = pending.substring(0, newline);
                        pending.delete(0, newline + 1);
                        client.write(ByteBuffer.wrap((reply(request) + "\n").getBytes(StandardCharsets.UTF_8)));
                    }
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private static String reply(String request) {
        String id = request.replaceFirst("^\\{\"id\":(\\d+).*", "$1");
        String job = "{\"name\":\"web\",\"state\":\"running\",\"pid\":4242,\"pgid\":4242,\"owner\":0,\"started_at\":\""
                + Instant.now().minusSeconds(3725) + "\",\"ready_at\":\"" + Instant.now() + "\",\"restarts\":0,"
                + "\"source\":\"client\"}";
        String stopped = "{\"name\":\"web\",\"state\":\"stopped\",\"owner\":0,\"exit_signal\":15,\"restarts\":0}";
        String result;
        if (request.contains("\"op\":\"ping\"")) {
            result = "{\"version\":\"0\",\"protocol\":1,\"pid\":1,\"uid\":0}";
        } else if (request.contains("nosuch")) {
            return "{\"id\":" + id + ",\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no job named nosuch\"}}";
        } else if (request.contains("\"op\":\"stop\"")) {
            result = stopped;
        } else if (request.contains("\"name\"") || request.contains("\"spec\"")) {
            result = job;
        } else if (request.contains("\"op\":\"list\"")) {
            result = "{\"jobs\":[{\"name\":\"web\",\"state\":\"running\",\"pid\":4242,\"owner\":0}]}";
        } else {
            result = "{\"jobs\":[" + job + "," + stopped.replace("\"web\"", "\"old\"") + "]}";
        }
        return "{\"id\":" + id + ",\"ok\":true,\"result\":" + result + "}";
    }
}
