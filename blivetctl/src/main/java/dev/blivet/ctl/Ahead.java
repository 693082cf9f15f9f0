package dev.blivet.ctl;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * Start-up work done on the second core: the model of the subcommand the arguments name (while
 * the first core builds the top command), then the JSON reader and writer's set-up while the
 * first core connects through {@link NativeSocket}; or, where that library is not there, a JDK
 * socket channel (its first use sets up a SecureRandom) while the first core sets up the JSON
 * classes. A run of {@code blivetctl status} is mostly start-up, and these parts do not depend
 * on each other. Whatever is not ready, or failed, is done again where it is needed, so this
 * only ever saves time.
 */
final class Ahead implements Runnable {
    private final String command;
    private final Once<CommandLine> subcommand;
    private final Once<SocketChannel> channel;
    /** Guards the three fields below: a channel opened after the run ended is closed by its opener. */
    private final Object lock = new Object();
    private SocketChannel opened;
    private boolean channelTaken;
    private boolean finished;
    private boolean subcommandTaken;
    /**
     * Whether this thread has set up the JSON writer (Json's initializer included): read without
     * the lock, only to choose who sets up what ({@link #whileJsonWarms}).
     */
    private volatile boolean jsonReady;

    private Ahead(String command) {
        this.command = command;
        this.subcommand = command != null ? new Once<>(new BuildSubcommand(command)) : null;
        this.channel = new Once<>(new OpenChannel());
    }

    /**
     * Starts the work for a run of main: this subcommand's model (null for none: a run without
     * picocli, {@link Shortcut}), then the socket channel.
     */
    static Ahead start(String command) {
        Ahead ahead = new Ahead(command);
        Thread thread = new Thread(ahead, "blivetctl-ahead");
        thread.setDaemon(true);
        thread.start();
        return ahead;
    }

    @Override
    public void run() {
        if (subcommand != null) {
            subcommand.run();
        }
        channel.run();
    }

    /**
     * The subcommand's command line built ahead (taken once), or null: build it here. While the
     * other thread still builds it, this one opens the channel, unless that has begun already (a
     * {@link Once} runs once, on whichever thread gets to it first).
     */
    CommandLine subcommand(String name) {
        if (command == null || !command.equals(name) || subcommandTaken) {
            return null;
        }
        subcommandTaken = true;
        channel.run();
        return subcommand.take();
    }

    /**
     * The channel opened ahead (taken once), or null: open one here. While the other thread still
     * opens it, this one sets up the JSON classes the command needs next.
     */
    SocketChannel channel() {
        if (!channel.isDone()) {
            Json.warmUp();
        }
        synchronized (lock) {
            if (finished || channelTaken) {
                return null; // one channel per run: a second connect (reexec's pings) opens its own
            }
            channelTaken = true;
        }
        return channel.take();
    }

    /**
     * Called by the first core once connected through {@link NativeSocket}: while this thread
     * still sets up the JSON writer, which the request needs first, the first core would only
     * wait for it; it sets up the number parser instead, which the reply needs next (whichever
     * thread comes to it second waits for the first, as with any class's initializer).
     */
    void whileJsonWarms() {
        if (!jsonReady) {
            Json.Numbers.warmUp();
        }
    }

    /**
     * Ends the run's work ahead: a channel no command took is closed, now or as soon as it is
     * open (tests run main many times in one JVM).
     */
    void finish() {
        SocketChannel unused;
        synchronized (lock) {
            if (channelTaken || finished) {
                return;
            }
            finished = true;
            unused = opened;
        }
        close(unused);
    }

    private void opened(SocketChannel socketChannel) {
        synchronized (lock) {
            if (!finished) {
                opened = socketChannel;
                return;
            }
        }
        close(socketChannel);
    }

    private static void close(SocketChannel socketChannel) {
        if (socketChannel != null) {
            try {
                socketChannel.close();
            } catch (IOException e) {
                // nothing was sent on it
            }
        }
    }

    /**
     * A computation run once, by whichever thread gets to it first, whose result the others wait
     * for: what a FutureTask does, without its VarHandles, whose set-up cost the main thread about
     * 3 ms CPU in a probe, before any work of this class began (docs/benchmarks.md).
     */
    private static final class Once<T> {
        private final Callable<T> work;
        /** Guarded by this. */
        private boolean started;
        private boolean done;
        private T value;

        Once(Callable<T> work) {
            this.work = work;
        }

        /** Runs the work here unless it has begun elsewhere; a failure leaves the value null. */
        void run() {
            synchronized (this) {
                if (started) {
                    return;
                }
                started = true;
            }
            T result = null;
            try {
                result = work.call();
            } catch (Throwable e) {
                // left undone here: whoever needs it does it again
            }
            synchronized (this) {
                value = result;
                done = true;
                notifyAll();
            }
        }

        synchronized boolean isDone() {
            return done;
        }

        /** The result once it is there, or null: it failed, or this thread was interrupted. */
        synchronized T take() {
            try {
                while (!done) {
                    wait();
                }
                return value;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Classes rather than lambdas: a lambda's first call costs more than it is worth here. */
    private static final class BuildSubcommand implements Callable<CommandLine> {
        private final String name;

        BuildSubcommand(String name) {
            this.name = name;
        }

        @Override
        public CommandLine call() {
            return Commands.newSubcommand(name);
        }
    }

    private final class OpenChannel implements Callable<SocketChannel> {
        @Override
        public SocketChannel call() throws IOException {
            if (NativeSocket.available()) {
                // The first core connects without a channel meanwhile, then writes the request.
                Json.warmUpWriter();
                jsonReady = true;
                Json.warmUpReader();
                return null;
            }
            SocketChannel socketChannel = ChannelLink.newChannel();
            opened(socketChannel);
            return socketChannel;
        }
    }
}
