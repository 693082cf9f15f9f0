package dev.blivet.ctl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real blivetd in its own JVM, as an operator runs it, with its socket, jobs directory and
 * state directory under a test's temp dir (made 0755, so that a client dropped to nobody reaches
 * the socket). Its log is kept for failure messages.
 */
final class Blivetd implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path jobsDir;
    private final Path log;

    private Blivetd(Process process, Path socket, Path jobsDir, Path log) {
        this.process = process;
        this.socket = socket;
        this.jobsDir = jobsDir;
        this.log = log;
    }

    static Blivetd start(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = dir.resolve("run/blivetd.sock");
        Path jobs = Files.createDirectories(dir.resolve("jobs"));
        Path log = dir.resolve("blivetd.log");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dblivet.spawnHelper=" + System.getProperty("blivet.spawnHelper"),
                "-cp", System.getProperty("java.class.path"),
                "dev.blivet.daemon.Main", "--socket", socket.toString(), "--jobs-dir", jobs.toString(),
                "--state-dir", dir.resolve("state").toString(), "--log-level", "debug");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Blivetd daemon = new Blivetd(process, socket, jobs, log);
        try {
            Await.until(Duration.ofSeconds(30), () -> daemon.answers() || !process.isAlive(), "blivetd to answer");
        } catch (AssertionError e) {
            daemon.close();
            throw new AssertionError(e.getMessage() + "\n" + daemon.log(), e);
        }
        if (!process.isAlive()) {
            throw new AssertionError("blivetd exited with " + process.exitValue() + ":\n" + daemon.log());
        }
        return daemon;
    }

    /** Answers a ping (it binds before it has loaded its jobs). */
    private boolean answers() {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap("{\"id\":1,\"op\":\"ping\"}\n".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer reply = ByteBuffer.allocate(4096);
            while (reply.position() == 0 || reply.get(reply.position() - 1) != '\n') {
                if (channel.read(reply) < 0) {
                    return false;
                }
            }
            return new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8).contains("\"ok\":true");
        } catch (IOException e) {
            return false;
        }
    }

    Path socket() {
        return socket;
    }

    Path jobsDir() {
        return jobsDir;
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM, as systemd stops it: it stops its jobs, then exits. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
