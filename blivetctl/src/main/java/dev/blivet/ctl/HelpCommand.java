package dev.blivet.ctl;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code blivetctl help [COMMAND]}: the same help as {@code --help}. */
@Command(name = "help", description = "Show the help of blivetctl, or of one of its commands.",
        footer = {"", "Examples:", "  blivetctl help wait"})
final class HelpCommand implements Callable<Void>, Commands.Subcommand {
    @Parameters(paramLabel = "COMMAND", arity = "0..1", description = "The command to explain.")
    String command;

    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    @Override
    public void spec(CommandSpec spec) {
        this.spec = spec;
    }

    @Override
    public Void call() {
        CommandLine top = spec.root().commandLine();
        CommandLine target = command == null ? top : top.getSubcommands().get(command);
        if (target == null) {
            throw new ParameterException(spec.commandLine(), "no command named '" + command + "'; the commands are "
                    + String.join(", ", top.getSubcommands().keySet()));
        }
        target.usage(top.getOut());
        return null;
    }
}
