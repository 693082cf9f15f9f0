package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DidYouMeanTest {
    @ParameterizedTest
    @CsvSource({"TREM, TERM", "TERN, TERM", "HUPP, HUP", "USR3, USR1", "KIL, KILL", "term, TERM"})
    void signalTyposFindTheSignal(String typo, String meant) {
        assertEquals(Optional.of(meant), DidYouMean.closest(typo, Signals.names()));
    }

    @Test
    void aTranspositionIsOneEdit() {
        assertEquals(1, DidYouMean.edits("trem", "term"));
        assertEquals(2, DidYouMean.edits("trem", "trap"));
    }

    @Test
    void farOrShortWordsSuggestNothing() {
        assertEquals(Optional.empty(), DidYouMean.closest("FOO", Signals.names()), "3 letters, 2 edits from IO: too far");
        assertEquals(Optional.empty(), DidYouMean.closest("bogus", List.of("logs", "stop")), "two edits, five letters");
        assertEquals(Optional.of("restart_delay"), DidYouMean.closest("restart_dleya", List.of("restart_delay")),
                "two edits in a long word");
        assertEquals(Optional.empty(), DidYouMean.closest("sometimes", List.of("no", "on-failure", "always")));
        assertEquals(Optional.empty(), DidYouMean.closest("x".repeat(100_000), List.of("name", "command")));
    }

    @Test
    void anAliasWinsOverSpelling() {
        assertEquals(Optional.of("chdir"), DidYouMean.closest("CWD", List.of("chdir", "cwx"), Map.of("cwd", "chdir")));
    }

    @Test
    void hintWordsTheSuggestion() {
        assertEquals(" (did you mean \"on-failure\"?)", DidYouMean.hint("on-falure", List.of("no", "on-failure", "always")));
        assertEquals("", DidYouMean.hint("whenever", List.of("no", "on-failure", "always")));
    }
}
