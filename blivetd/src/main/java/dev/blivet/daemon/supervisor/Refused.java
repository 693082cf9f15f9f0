package dev.blivet.daemon.supervisor;

/** Carries a {@link Refusal} out of the loop, through a future. No stack trace: it is an answer, not a bug. */
public final class Refused extends RuntimeException {
    private final transient Refusal refusal;

    public Refused(Refusal refusal) {
        super(refusal.toString(), null, false, false);
        this.refusal = refusal;
    }

    public Refusal refusal() {
        return refusal;
    }
}
