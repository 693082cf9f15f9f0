package dev.blivet.common.protocol;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** The operations of the control protocol (docs/protocol.md): the one list of them. */
public enum Op {
    PING, START, STOP, RESTART, SIGNAL, STATUS, LIST, REMOVE, RELOAD, WAIT,
    /**
     * A start's checks of a spec without the start: the same parser, resolver, identity and
     * probes, nothing started or stored.
     */
    VALIDATE,
    /** Turns the connection into a stream of state changes. */
    EVENTS,
    /** Answers with a job's last log lines, and with follow turns into a stream of new ones. */
    LOGS,
    /**
     * Replaces the JVM with a new one from the code on disk, every job kept (root only; needs the
     * keeper, which holds the socket and starts the next JVM).
     */
    REEXEC;

    /** The name in a request's {@code op} field. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Op> fromWire(String op) {
        return Arrays.stream(values()).filter(known -> known.wire().equals(op)).findFirst();
    }

    /** "ping, start, ...": for the message that refuses an unknown op. */
    public static String known() {
        return Arrays.stream(values()).map(Op::wire).collect(Collectors.joining(", "));
    }
}
