package io.sparkquant.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness's failure path: a cluster that cannot start in time explains why and leaves nothing behind. */
class StandaloneClusterIT {

  @Test
  void startTimeoutReportsTheLogsAndLeavesNoProcess(@TempDir Path dir) {
    Path stateDir = dir.resolve("cluster");
    // No master JVM is up and answering within one second on this machine.
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> StandaloneCluster.builder().stateDir(stateDir).startTimeout(Duration.ofSeconds(1)).start());
    assertTrue(e.getMessage().contains("did not start"), e.getMessage());
    assertTrue(e.getMessage().contains("last lines of " + stateDir.resolve("logs/master.log")), e.getMessage());
    List<ProcessHandle> left = ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(stateDir.toString())).orElse(false))
        .toList();
    assertEquals(List.of(), left, "processes of the failed cluster still running");
  }
}
