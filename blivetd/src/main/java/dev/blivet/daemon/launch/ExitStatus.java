package dev.blivet.daemon.launch;

/**
 * How a process ended, as waitpid(2) told the reaper.
 *
 * @param code the exit code, or -1 when killed by a signal
 * @param signal the signal that killed it, or 0
 */
public record ExitStatus(int code, int signal, boolean coreDumped) {
    public static ExitStatus decode(int waitStatus) {
        int termSignal = waitStatus & 0x7f;
        if (termSignal == 0) {
            return new ExitStatus((waitStatus >> 8) & 0xff, 0, false);
        }
        return new ExitStatus(-1, termSignal, (waitStatus & 0x80) != 0);
    }

    public boolean exited() {
        return signal == 0;
    }

    /** "exit code 3" or "killed by signal 9 (SIGKILL), core dumped". */
    public String describe() {
        if (exited()) {
            return "exit code " + code;
        }
        String name = jnr.constants.platform.Signal.valueOf(signal).name();
        return "killed by signal " + signal + (name.startsWith("SIG") ? " (" + name + ")" : "")
                + (coreDumped ? ", core dumped" : "");
    }
}
