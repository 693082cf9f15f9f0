package dev.blivet.daemon.server;

/** The {@code reexec} op's two halves: whether it can happen, and starting it once answered. */
public interface Reexec {
    /** Why no re-exec can happen now; null when it can. */
    String refusal();

    /** The reply is written: stop accepting, hand over to the keeper and exit, jobs untouched. */
    void begin();

    /** A blivetd that runs without its keeper: no one would start the next JVM or hold the socket. */
    Reexec WITHOUT_KEEPER = new Reexec() {
        @Override
        public String refusal() {
            return "blivetd runs without its keeper (started as java ... directly?): use bin/blivetd";
        }

        @Override
        public void begin() {
            throw new IllegalStateException(refusal());
        }
    };
}
