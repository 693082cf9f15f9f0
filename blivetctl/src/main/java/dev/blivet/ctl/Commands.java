package dev.blivet.ctl;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;

/**
 * blivetctl's subcommands, in the order its help lists them, added to the top command when
 * picocli builds it. Building a subcommand's model costs reflection over its class, its
 * annotations and its help mixin: a run of {@code blivetctl status} builds only {@code status}'s
 * ({@link Main#only}); help, completion and man pages get them all. Names here, not read from the
 * annotations, for the same reason (a test checks that they agree).
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

    static final List<String> NAMES = List.of("start", "stop", "restart", "signal", "status", "list", "remove", "logs",
            "wait", "events", "reload", "validate", "ping", "version", "help");

    static Object create(String name) {
        switch (name) {
            case "start": return new StartCommand();
            case "stop": return new StopCommand();
            case "restart": return new RestartCommand();
            case "signal": return new SignalCommand();
            case "status": return new StatusCommand();
            case "list": return new ListCommand();
            case "remove": return new RemoveCommand();
            case "logs": return new LogsCommand();
            case "wait": return new WaitCommand();
            case "events": return new EventsCommand();
            case "reload": return new ReloadCommand();
            case "validate": return new ValidateCommand();
            case "ping": return new PingCommand();
            case "version": return new VersionCommand();
            case "help": return new HelpCommand();
            default: throw new IllegalArgumentException("no command " + name);
        }
    }

    @Override
    public CommandSpec transform(CommandSpec spec) {
        new ExitCodeList().transform(spec);
        String only = null;
        if (spec.userObject() instanceof Main main) {
            main.spec = spec;
            only = main.only;
        }
        for (String name : NAMES) {
            if (only == null || only.equals(name)) {
                CommandLine built = Ahead.subcommand(name);
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
            if (arg.equals("--socket")) {
                i++;
            } else if (arg.equals("--json") || arg.startsWith("--socket=")) {
                continue;
            } else if (arg.startsWith("-") || arg.startsWith("@")) {
                return null;
            } else {
                return NAMES.contains(arg) && !arg.equals("help") ? arg : null;
            }
        }
        return null;
    }
}
