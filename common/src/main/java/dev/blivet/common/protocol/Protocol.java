package dev.blivet.common.protocol;

/** Facts of the control protocol shared by blivetd and its clients (docs/protocol.md). */
public final class Protocol {
    private Protocol() {
    }

    /** A request line longer than this is refused with line_too_long and the connection closed. */
    public static final int MAX_LINE_BYTES = 1 << 20;
    /** The protocol version ping reports; bumped only for incompatible changes. */
    public static final int VERSION = 1;

    public static final String PING = "ping";
    public static final String START = "start";
    public static final String STOP = "stop";
    public static final String RESTART = "restart";
    public static final String SIGNAL = "signal";
    public static final String STATUS = "status";
    public static final String LIST = "list";
    public static final String REMOVE = "remove";
    public static final String RELOAD = "reload";
    public static final String WAIT = "wait";
    public static final String EVENTS = "events";
    public static final String LOGS = "logs";
}
