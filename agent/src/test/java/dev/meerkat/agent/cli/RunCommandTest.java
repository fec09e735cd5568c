package dev.meerkat.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meerkat.config.BootstrapConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which command lines run the agent without picocli; every other one goes to picocli's parser. */
class RunCommandTest {
    @Test
    void thePlainFormsOfRunAreRecognised() {
        assertEquals(Optional.of(BootstrapConfig.DEFAULT_PATH), RunCommand.plain(new String[] {"run"}));
        assertEquals(Optional.of(Path.of("/etc/meerkat/agent.yaml")),
                RunCommand.plain(new String[] {"run", "--config", "/etc/meerkat/agent.yaml"}));
        assertEquals(Optional.of(Path.of("a b.yaml")), RunCommand.plain(new String[] {"run", "--config=a b.yaml"}));
    }

    @Test
    void everythingElseIsLeftToPicocli() {
        for (String[] args : new String[][] {{}, {"status"}, {"run", "--help"}, {"run", "-h"}, {"run", "--version"},
                {"run", "--config"}, {"run", "--config="}, {"run", "--config", "-h"}, {"run", "--config", ""},
                {"run", "--config", "a", "b"}, {"run", "--no-such-option"}, {"run", "--config", "a", "--config", "b"},
                {"--version"}, {"RUN"}}) {
            assertEquals(Optional.empty(), RunCommand.plain(args), String.join(" ", args));
        }
    }
}
