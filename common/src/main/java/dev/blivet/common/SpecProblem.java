package dev.blivet.common;

/** One thing wrong with a job spec: its exit code and a message naming the field, path or user. */
public record SpecProblem(ExitCode code, String message) {
    @Override
    public String toString() {
        return message.startsWith(code.kind() + ":") ? message : code.kind() + ": " + message;
    }
}
