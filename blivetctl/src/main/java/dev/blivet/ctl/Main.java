package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.SocketPaths;
import dev.blivet.common.Version;
import java.io.BufferedWriter;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * blivetctl: the command line for blivetd. Each subcommand is a small class; this one holds the
 * options every command shares ({@code --socket}, {@code --json}) and what they share (the
 * connection, the output streams). {@link Failures} turns every failure into a message and an
 * exit code ({@link dev.blivet.common.CliExit}).
 */
@Command(name = "blivetctl", versionProvider = Main.VersionProvider.class,
        modelTransformer = Commands.class,
        description = "Start, stop and watch the jobs of blivetd, the blivet daemon manager, over its Unix socket.",
        // The subcommands are Commands.CLASSES, added as picocli builds the model.
        footer = {"",
                SocketPaths.RULE,
                "",
                "Examples:",
                "  blivetctl start examples/jobs/sleeper.json   start it, wait until ready",
                "  blivetctl status                             state, pid, uptime, last exit",
                "  blivetctl logs NAME -f                       follow a job's stdout file (its spec's \"stdout\")",
                "  blivetctl stop sleeper                       stop it, SIGKILL if it lingers",
                "  blivetctl validate job.json                  check a spec as blivetd would start it",
                "  blivetctl status sleeper --json | jq .pid    --json on every command",
                "  blivetctl help wait                          one command's help",
                "",
                "Bash completion: source blivetctl/target/completion/blivetctl"})
public final class Main implements Callable<Void> {
    private static final String CONVERTER_EXCLUDES = "picocli.converters.excludes";
    /** The shared options' names: the annotations below, {@link Commands#named}, {@link Shortcut}. */
    static final String SOCKET = "--socket";
    static final String JSON = "--json";

    /** On every command (inherited): cheaper than a help mixin in each, which costs start-up. */
    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help and exit.")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Show blivetctl's version and exit.")
    boolean version;

    @Option(names = SOCKET, paramLabel = "PATH", scope = ScopeType.INHERIT,
            description = "blivetd's socket (default: $BLIVETD_SOCKET, else " + SocketPaths.ROOT_SOCKET + " as root,"
                    + " $XDG_RUNTIME_DIR/blivetd/blivetd.sock for other users).")
    String socket;

    @Option(names = JSON, scope = ScopeType.INHERIT,
            description = "Print JSON for scripts: one document, or one per line for streams (events, logs -f).")
    boolean json;

    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    /**
     * The one subcommand to build (see {@link Commands}), or null for all of them; read while
     * picocli builds the model, so set it before.
     */
    String only;

    /** This run's work done ahead on another thread, or null: none. Set before picocli builds the model. */
    Ahead ahead;

    /** The environment: $BLIVETD_SOCKET and $XDG_RUNTIME_DIR pick the socket. */
    Map<String, String> env = System.getenv();

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"blivetctl " + Version.get()};
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs blivetctl on System.out and System.err; returns the exit code. */
    static int run(String... args) {
        return run(null, null, args);
    }

    /**
     * Runs blivetctl on these streams (null: System.out, System.err, as picocli would make them);
     * returns the exit code. An everyday query {@link Shortcut} can parse runs without picocli;
     * everything else, help and every usage error included, goes through picocli.
     */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        Shortcut shortcut = Shortcut.parse(args);
        String command = shortcut != null ? null : Commands.named(args);
        Ahead ahead = shortcut != null || command != null && !command.equals(Commands.NONE) ? Ahead.start(command)
                : null;
        try {
            if (shortcut != null) {
                return shortcut.run(ahead, out != null ? out : writer(System.out, "sun.stdout.encoding"),
                        err != null ? err : writer(System.err, "sun.stderr.encoding"));
            }
            CommandLine commandLine = newCommandLine(ahead, args);
            if (out != null) {
                commandLine.setOut(out);
            }
            if (err != null) {
                commandLine.setErr(err);
            }
            return commandLine.execute(args);
        } finally {
            if (ahead != null) {
                ahead.finish();
            }
        }
    }

    /** A writer on a standard stream made as picocli makes its own, so both paths print alike. */
    private static PrintWriter writer(OutputStream stream, String encodingProperty) {
        String encoding = System.getProperty(encodingProperty);
        Charset charset = Charset.defaultCharset();
        if (encoding != null) {
            try {
                charset = Charset.forName(encoding);
            } catch (RuntimeException e) {
                // picocli falls back to the default too
            }
        }
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(stream, charset)), true);
    }

    /**
     * The command line with blivetctl's handlers, for these arguments (only the subcommand they
     * name is built): what main runs, and what tests run in-process. Not public: the launcher
     * looks main up by reflection, which loads the types in every public method's signature, and
     * picocli's CommandLine is one class that a query never needs ({@link Shortcut}).
     */
    static CommandLine newCommandLine(String... args) {
        return newCommandLine(null, args);
    }

    private static CommandLine newCommandLine(Ahead ahead, String[] args) {
        // picocli looks up converters for java.sql and java.time types by reflection as it starts;
        // blivetctl has no option of those types, and the look-ups cost a tenth of a run.
        if (System.getProperty(CONVERTER_EXCLUDES) == null) {
            System.setProperty(CONVERTER_EXCLUDES, "java\\.sql\\..*,java\\.time\\..*");
        }
        Failures failures = new Failures();
        Main main = new Main();
        main.only = Commands.named(args);
        main.ahead = ahead;
        CommandLine commandLine = new CommandLine(main);
        commandLine.setExecutionExceptionHandler(failures);
        commandLine.setParameterExceptionHandler(failures);
        return commandLine;
    }

    /** blivetctl alone: the usage, and a usage error. */
    @Override
    public Void call() throws CliException {
        err().println("blivetctl: which command? For example: blivetctl status");
        spec.commandLine().usage(err());
        throw CliException.reported(dev.blivet.common.CliExit.USAGE);
    }

    ControlClient connect() throws CliException {
        int uid = Uid.effective();
        String origin = socket != null && !socket.isEmpty() ? "--socket"
                : env.get(SocketPaths.ENV) != null && !env.get(SocketPaths.ENV).isEmpty() ? "$" + SocketPaths.ENV
                : "the default for uid " + Integer.toUnsignedString(uid);
        connected = SocketPaths.resolve(socket, env, uid);
        ControlClient client = ControlClient.connect(connected, origin, ahead);
        if (ahead != null && NativeSocket.available()) {
            ahead.whileJsonWarms();
        }
        return client;
    }

    /** The socket of the last {@link #connect}, or null: whose blivetd answered, for advice. */
    java.nio.file.Path connected;

    /** The streams of a run without picocli ({@link Shortcut}); null: picocli's. */
    PrintWriter out;
    PrintWriter err;

    PrintWriter out() {
        return out != null ? out : spec.commandLine().getOut();
    }

    PrintWriter err() {
        return err != null ? err : spec.commandLine().getErr();
    }

    /** One JSON document (or stream element) on one line of stdout. */
    void printJson(JsonNode document) {
        out().println(Json.write(document));
        out().flush();
    }
}
