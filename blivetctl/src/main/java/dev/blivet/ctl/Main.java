package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.SocketPaths;
import dev.blivet.common.Version;
import java.io.PrintWriter;
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

    /** On every command (inherited): cheaper than a help mixin in each, which costs start-up. */
    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help and exit.")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Show blivetctl's version and exit.")
    boolean version;

    @Option(names = "--socket", paramLabel = "PATH", scope = ScopeType.INHERIT,
            description = "blivetd's socket (default: $BLIVETD_SOCKET, else " + SocketPaths.ROOT_SOCKET + " as root,"
                    + " $XDG_RUNTIME_DIR/blivetd/blivetd.sock for other users).")
    String socket;

    @Option(names = "--json", scope = ScopeType.INHERIT,
            description = "Print JSON for scripts: one document, or one per line for streams (events, logs -f).")
    boolean json;

    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    /**
     * The one subcommand to build (see {@link Commands}), or null for all of them; read while
     * picocli builds the model, so set it before.
     */
    String only;

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
        String command = Commands.named(args);
        if (command != null && !command.equals(Commands.NONE)) {
            Ahead.start(command);
        }
        return newCommandLine(args).execute(args);
    }

    /**
     * The command line with blivetctl's handlers, for these arguments (only the subcommand they
     * name is built): what main runs, and what tests run in-process.
     */
    public static CommandLine newCommandLine(String... args) {
        // picocli looks up converters for java.sql and java.time types by reflection as it starts;
        // blivetctl has no option of those types, and the look-ups cost a tenth of a run.
        if (System.getProperty(CONVERTER_EXCLUDES) == null) {
            System.setProperty(CONVERTER_EXCLUDES, "java\\.sql\\..*,java\\.time\\..*");
        }
        Failures failures = new Failures();
        Main main = new Main();
        main.only = Commands.named(args);
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
        return ControlClient.connect(connected, origin);
    }

    /** The socket of the last {@link #connect}, or null: whose blivetd answered, for advice. */
    java.nio.file.Path connected;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** One JSON document (or stream element) on one line of stdout. */
    void printJson(JsonNode document) {
        out().println(Json.write(document));
        out().flush();
    }
}
