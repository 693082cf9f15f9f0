package dev.blivet.common.protocol;

import dev.blivet.common.StrictJson;

/** Facts of the control protocol shared by blivetd and its clients (docs/protocol.md). */
public final class Protocol {
    private Protocol() {
    }

    // ---- What one peer may cost blivetd (the arithmetic, measured with Jackson 2.17.2, JDK 17) ----
    //
    // Worst case: MAX_CONNECTIONS clients each complete a largest request at once. Per connection:
    //   read buffer                        8 KiB  READ_BUFFER_BYTES (jnr copies through native memory)
    //   line array                        64 KiB  MAX_LINE_BYTES (96 KiB for an instant while it
    //                                             doubles from 32 KiB; never grows past the limit)
    //   parse, all it allocates         <360 KiB  StrictJson on the line's bytes, no decoded String:
    //                                             measured at 368,224 B for 4158 short strings
    //                                             filling 64 KiB (the tree alone retains 316,101 B,
    //                                             76 B a token, the costliest shape found); one
    //                                             64 KiB string allocates 320,232 B, [{},...] 215,128 B
    //   reply of a ping or an error        <2 KiB  (status and list grow with the jobs, not the request)
    //   => < 440 KiB a connection; 256 x 440 KiB = 110 MiB of the 256 MiB heap (-Xmx256m), leaving
    //      over 140 MiB beside blivetd's own (4 MiB retained when idle, measured) and its jobs' state.
    //      One non-root uid: 32 x 440 KiB = 14 MiB.
    // Thread stacks (-Xss512k) are native memory, not heap. ProtocolEdgeTest sends all of this at
    // once to a real blivetd.
    // A connection streaming events sends no requests. Its queue holds at most MAX_EVENT_BACKLOG
    // snapshots, and since a queue only ever holds the newest events its uid may see, the queues
    // of one uid share them: at most MAX_EVENT_BACKLOG x ~8.5 KiB (a snapshot with a 4 KiB
    // sd-notify STATUS= in UTF-16) = 2.2 MiB per subscribing uid, 8 uids at 32 connections each
    // = 17 MiB, beside 1 KiB of queue array per connection.

    /** A request line longer than this is refused with line_too_long and the connection closed. */
    public static final int MAX_LINE_BYTES = 64 * 1024;
    /** What the connection reads from its socket at a time. */
    public static final int READ_BUFFER_BYTES = 8 * 1024;
    /** Tokens of a job spec: thousands of env entries or arguments, far from what a tree costs to harm. */
    public static final int MAX_SPEC_TOKENS = 4096;
    /** Nesting of a request; a spec sits one level inside its start request. */
    public static final int MAX_REQUEST_DEPTH = 32;
    /** Digits of one number: a long has 20, a double's shortest text 24. */
    public static final int MAX_NUMBER_CHARS = 64;
    /** Room a start request needs around its spec (id, op, wait): the spec limits leave it free. */
    private static final int ENVELOPE_BYTES = 4 * 1024;
    private static final int ENVELOPE_TOKENS = 64;
    /** A spec file: small enough that blivetctl start can send it inline within MAX_LINE_BYTES. */
    public static final int MAX_SPEC_BYTES = MAX_LINE_BYTES - ENVELOPE_BYTES;
    public static final int MAX_REQUEST_TOKENS = MAX_SPEC_TOKENS + ENVELOPE_TOKENS;

    /** One request line. */
    public static final StrictJson.Limits REQUEST_LIMITS = new StrictJson.Limits(MAX_LINE_BYTES, MAX_REQUEST_TOKENS,
            MAX_REQUEST_DEPTH, MAX_NUMBER_CHARS);
    /**
     * One job spec, from a file (blivetctl, the jobs directory): whatever passes these also passes
     * {@link #REQUEST_LIMITS} once sent inline, so validate and start agree.
     */
    public static final StrictJson.Limits SPEC_LIMITS = new StrictJson.Limits(MAX_SPEC_BYTES, MAX_SPEC_TOKENS,
            MAX_REQUEST_DEPTH - 1, MAX_NUMBER_CHARS);
    /** A reply blivetd sends (status of every job may be long): only the nesting is bounded. */
    public static final StrictJson.Limits REPLY_LIMITS = StrictJson.Limits.depthOnly(MAX_REQUEST_DEPTH);

    /** Changes an events subscriber may fall behind by before it is cut off (told so first). */
    public static final int MAX_EVENT_BACKLOG = 256;
    /** Client connections blivetd serves at once, all users together. */
    public static final int MAX_CONNECTIONS = 256;
    /** Connections one non-root uid may hold at once (root is bounded only by MAX_CONNECTIONS). */
    public static final int MAX_CONNECTIONS_PER_USER = 32;
    /**
     * Of MAX_CONNECTIONS, how many only root may use: however many users fill the rest, root can
     * still connect to stop what they run.
     */
    public static final int CONNECTIONS_RESERVED_FOR_ROOT = 32;
    /**
     * Logs one non-root uid may follow at once: each follower holds an inotify instance, which
     * blivetd takes from root's own per-user limit (128 by default, shared by every root process).
     */
    public static final int MAX_FOLLOWS_PER_USER = 4;
    /** The protocol version ping reports; bumped only for incompatible changes. */
    public static final int VERSION = 1;
}
