package dev.blivet.common;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A job spec that cannot be started, with every problem found (so a person fixes them in one go).
 * The exit code is the first problem's.
 */
public final class SpecException extends Exception {
    private final List<SpecProblem> problems;

    public SpecException(List<SpecProblem> problems) {
        super(problems.stream().map(SpecProblem::toString).collect(Collectors.joining("; ")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a SpecException needs a problem");
        }
        this.problems = List.copyOf(problems);
    }

    public SpecException(ExitCode code, String message) {
        this(List.of(new SpecProblem(code, message)));
    }

    public List<SpecProblem> problems() {
        return problems;
    }

    public ExitCode code() {
        return problems.get(0).code();
    }
}
