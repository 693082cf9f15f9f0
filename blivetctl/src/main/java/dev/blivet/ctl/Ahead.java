package dev.blivet.ctl;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import picocli.CommandLine;

/**
 * Start-up work done on the second core while the first builds the top command: the model of
 * the subcommand the arguments name, then the JSON classes and a socket channel (the JDK's first
 * Unix socket sets up a SecureRandom). A run of {@code blivetctl status} is mostly start-up, and
 * these parts do not depend on each other. Whatever is not ready, or failed, is done again where
 * it is needed, so this only ever saves time.
 */
final class Ahead implements Runnable {
    private static volatile Ahead started;

    private final String command;
    private final FutureTask<CommandLine> subcommand;
    private final FutureTask<SocketChannel> channel;

    private Ahead(String command) {
        this.command = command;
        this.subcommand = new FutureTask<>(new BuildSubcommand(command));
        this.channel = new FutureTask<>(new OpenChannel());
    }

    /** Starts the work for this subcommand of a run of main. */
    static void start(String command) {
        Ahead ahead = new Ahead(command);
        Thread thread = new Thread(ahead, "blivetctl-ahead");
        thread.setDaemon(true);
        thread.start();
        started = ahead;
    }

    @Override
    public void run() {
        subcommand.run();
        channel.run();
    }

    /**
     * The subcommand's command line built ahead, or null: build it here. While the other thread
     * still builds it, this one opens the channel, unless that has begun already (a FutureTask
     * runs once, on whichever thread gets to it first).
     */
    static CommandLine subcommand(String name) {
        Ahead ahead = started;
        if (ahead == null || !ahead.command.equals(name)) {
            return null;
        }
        ahead.channel.run();
        return take(ahead.subcommand);
    }

    /** A channel opened ahead (taken once), or null: open one here. */
    static SocketChannel channel() {
        Ahead ahead = started;
        started = null;
        return ahead != null ? take(ahead.channel) : null;
    }

    private static <T> T take(FutureTask<T> task) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
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

    private static final class OpenChannel implements Callable<SocketChannel> {
        @Override
        public SocketChannel call() throws IOException {
            Json.parse("{\"warm\":[1]}");
            return SocketChannel.open(StandardProtocolFamily.UNIX);
        }
    }
}
