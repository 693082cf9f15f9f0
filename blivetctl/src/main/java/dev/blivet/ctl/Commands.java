package dev.blivet.ctl;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;

/**
 * blivetctl's subcommands, by class in the order its help lists them, added to the top command
 * when picocli builds it; each one's name is its {@code @Command} name. Building a subcommand's
 * model costs reflection over its class, its annotations and its help mixin: a run of
 * {@code blivetctl status} builds only {@code status}'s ({@link Main#only}); help, completion and
 * man pages get them all.
 */
final class Commands implements IModelTransformer {
    /**
     * A command that gets its own model: handed over here rather than injected with {@code @Spec},
     * whose annotation type would cost one more generated proxy class at every start.
     */
    interface Subcommand {
        void spec(CommandSpec spec);
    }

    /** {@link Main#only} when no subcommand is needed. */
    static final String NONE = "";

    /**
     * Each command's name (its {@code @Command} name, which FormatTest checks), in help order: written
     * out so that finding a command costs no reflection over annotations.
     */
    private static final List<String> NAMES = List.of("start", "stop", "restart", "signal", "status", "list", "remove",
            "logs", "wait", "events", "reload", "reexec", "validate", "ping", "version", "help");

    /**
     * Each command's class, in {@link #NAMES}' order; in a holder of its own, so that a query run
     * ({@link Shortcut}), which checks names only, does not load sixteen classes it never uses.
     */
    private static final class Classes {
        static final List<Class<?>> ALL = List.of(StartCommand.class, StopCommand.class, RestartCommand.class,
                SignalCommand.class, StatusCommand.class, ListCommand.class, RemoveCommand.class, LogsCommand.class,
                WaitCommand.class, EventsCommand.class, ReloadCommand.class, ReexecCommand.class, ValidateCommand.class,
                PingCommand.class, VersionCommand.class, HelpCommand.class);
    }

    /** The subcommands' names, in help order. */
    static List<String> names() {
        return NAMES;
    }

    /** A new instance of the subcommand of this name. */
    static Object create(String name) {
        int index = NAMES.indexOf(name);
        if (index < 0) {
            throw new IllegalArgumentException("no command " + name);
        }
        try {
            return Classes.ALL.get(index).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create the " + name + " command", e);
        }
    }

    @Override
    public CommandSpec transform(CommandSpec spec) {
        new ExitCodeList().transform(spec);
        String only = null;
        Main main = null;
        if (spec.userObject() instanceof Main top) {
            main = top;
            main.spec = spec;
            only = main.only;
        }
        for (String name : names()) {
            if (only == null || only.equals(name)) {
                CommandLine built = main != null && main.ahead != null ? main.ahead.subcommand(name) : null;
                spec.addSubcommand(name, built != null ? built : newSubcommand(name));
            }
        }
        return spec;
    }

    static CommandLine newSubcommand(String name) {
        Object command = create(name);
        CommandLine commandLine = new CommandLine(command);
        if (command instanceof Subcommand subcommand) {
            subcommand.spec(commandLine.getCommandSpec());
        }
        return commandLine;
    }

    /**
     * The subcommand the arguments name, when it is the only one needed; {@link #NONE} for
     * {@code blivetctl --version}; null when every one is (no subcommand, help, top-level --help,
     * an unknown name, an @argument file).
     */
    static String named(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            return NONE;
        }
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals(Main.SOCKET)) {
                i++;
            } else if (arg.equals(Main.JSON) || arg.startsWith(Main.SOCKET + "=")) {
                continue;
            } else if (arg.startsWith("-") || arg.startsWith("@")) {
                return null;
            } else {
                return !arg.equals("help") && names().contains(arg) ? arg : null;
            }
        }
        return null;
    }
}
