package dev.blivet.ctl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivetctl's own AF_UNIX socket against real sockets: it carries bytes both ways, sees the end
 * of the stream, and fails with the very messages of the JDK's channel, which blivetctl's advice
 * is built from (ControlClient), so that both print the same.
 */
class NativeSocketTest {
    @TempDir
    Path tmp;

    @Test
    void theTestsRunWithTheLibraryAsTheLauncherDoes() {
        assertTrue(NativeSocket.available(), "surefire names the library (" + NativeSocket.LIBRARY + ") as bin/blivetctl does: "
                + System.getProperty(NativeSocket.LIBRARY));
    }

    @Test
    void carriesBytesBothWaysAndSeesTheEnd() throws Exception {
        Path path = tmp.resolve("s.sock");
        byte[] reply = new byte[100_000]; // more than one read or write of the library's
        for (int i = 0; i < reply.length; i++) {
            reply[i] = (byte) i;
        }
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel peer = server.accept()) {
                    ByteBuffer request = ByteBuffer.allocate(6);
                    while (request.hasRemaining() && peer.read(request) >= 0) {
                        // until the whole request is in
                    }
                    peer.write(ByteBuffer.wrap(reply));
                    return new String(request.array(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            NativeSocket socket = NativeSocket.connect(path);
            socket.write("hello\n".getBytes(StandardCharsets.UTF_8));
            byte[] got = new byte[reply.length];
            assertEquals(0, socket.read(got, 0, 0), "no room: nothing read, not the end (as the JDK's channel)");
            int n = 0;
            for (int r; n < got.length && (r = socket.read(got, n, got.length - n)) > 0;) {
                n += r;
            }
            assertEquals("hello\n", received.get(30, TimeUnit.SECONDS));
            assertArrayEquals(reply, got);
            assertEquals(-1, socket.read(new byte[10], 0, 10), "the peer closed: the end of the stream");
            socket.close();
            IOException closed = assertThrows(IOException.class, () -> socket.read(new byte[1], 0, 1));
            assertEquals("Socket closed", closed.getMessage());
        }
    }

    @Test
    void failsWithTheJdkChannelsMessages() throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "not a socket");
        Path gone = tmp.resolve("gone.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(gone)); // closed below: the file stays, no one listens
        }
        Path[] paths = {tmp.resolve("none.sock"), file, gone, tmp, file.resolve("below"),
            tmp.resolve("x".repeat(100)), tmp.resolve("x".repeat(300))};
        for (Path path : paths) {
            String jdk = assertThrows(IOException.class, () -> ChannelLink.connect(ChannelLink.newChannel(), path))
                    .getMessage();
            String ours = assertThrows(IOException.class, () -> NativeSocket.connect(path)).getMessage();
            assertEquals(jdk, ours, path.toString());
        }
    }
}
