package dev.blivet.ctl;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** The JDK's AF_UNIX channel as a {@link Link}: where {@link NativeSocket}'s library is not there. */
final class ChannelLink implements Link {
    private static final String SELECTOR_PROVIDER = "java.nio.channels.spi.SelectorProvider";
    /** The provider the JDK picks on Linux when nothing names one (DefaultSelectorProvider's). */
    private static final String LINUX_SELECTOR_PROVIDER = "sun.nio.ch.EPollSelectorProvider";

    private final SocketChannel channel;

    private ChannelLink(SocketChannel channel) {
        this.channel = channel;
    }

    /**
     * A new AF_UNIX channel. Unless a system property names it, the JDK looks for its selector
     * provider with a ServiceLoader scan of the modules and of every jar on the class path (a
     * fifth of a {@code blivetctl status} run, measured) before it settles on its own; on Linux
     * this names that same provider, so the scan is skipped. A provider named with -D still wins.
     */
    static SocketChannel newChannel() throws IOException {
        if (System.getProperty(SELECTOR_PROVIDER) == null && "Linux".equals(System.getProperty("os.name"))) {
            System.setProperty(SELECTOR_PROVIDER, LINUX_SELECTOR_PROVIDER);
        }
        return SocketChannel.open(StandardProtocolFamily.UNIX);
    }

    /** Connects this channel (closed if that fails) to the socket. */
    static ChannelLink connect(SocketChannel channel, Path socket) throws IOException {
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was open on it
            }
            throw e;
        }
        return new ChannelLink(channel);
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        return channel.read(ByteBuffer.wrap(buffer, offset, length));
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
