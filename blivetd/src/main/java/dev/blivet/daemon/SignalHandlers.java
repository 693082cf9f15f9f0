package dev.blivet.daemon;

import sun.misc.Signal;

/**
 * Runs an action on a process signal. sun.misc.Signal (module jdk.unsupported) is the JDK's only
 * hook; the action runs on the JVM's signal thread and must only hand work over.
 */
final class SignalHandlers {
    private SignalHandlers() {
    }

    static void on(String name, Runnable action) {
        Signal.handle(new Signal(name), signal -> action.run());
    }
}
