package dev.blivet.ctl;

import dev.blivet.common.CliExit;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Puts the exit code table into a command's help (and so into its man page) straight from
 * {@link CliExit}, so that the codes are written down in one place.
 */
final class ExitCodeList implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
        Map<String, String> codes = new LinkedHashMap<>();
        for (CliExit exit : CliExit.values()) {
            codes.put(Integer.toString(exit.code()), exit.meaning());
        }
        spec.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        return spec;
    }
}
