package dev.blivet.ctl;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run for blivetctl's class-data sharing archive (built at package time with
 * {@code -XX:ArchiveClassesAtExit}): runs the everyday commands in one JVM against a stand-in
 * blivetd that answers with canned replies, so that the archive holds what those commands load.
 * With {@value #QUERIES} and a path, it writes the class list of the queries alone instead
 * ({@link CdsQueries}), for the queries' own archive. Build-time only; not a command.
 */
public final class CdsTraining {
    /** The arguments for the queries' class list instead: this, then the list's path. */
    static final String QUERIES = "queries";

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
            String missing = dir.resolve("nothing.sock").toString();
            if (args.length == 2 && args[0].equals(QUERIES)) {
                queries(s, missing, args[1]);
            } else {
                run("--help");
                run("--version");
                run("status", "--help");
                CdsQueries.run(s, missing);
                run("--socket", s, "stop", "web");
                run("--socket", s, "start", spec.toString());
                run("validate", spec.toString());
                run("no-such-command");
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
        }
        System.exit(0);
    }

    /**
     * The class list for the queries' archive: {@link CdsQueries} in a JVM of its own, with this
     * JVM's flags, against this JVM's stand-in blivetd, whose classes (a server channel, a
     * SecureRandom, java.time) would otherwise be in the list too.
     */
    private static void queries(String socket, String missing, String classList) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Every class read from its file and verified, as the dump will: the list names what verifying loads too.
        command.add("-Xshare:off");
        command.add("-XX:DumpLoadedClassList=" + classList);
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CdsQueries.class.getName(), socket,
                missing));
        Process child = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (child.waitFor() != 0) {
            // Its output is discarded (the queries' failures are part of the training): run it by hand to see why.
            throw new IllegalStateException("the queries' training run failed: " + String.join(" ", command));
        }
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
