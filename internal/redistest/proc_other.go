//go:build !unix

package redistest

import "os/exec"

// ownProcessGroup does nothing where there are no Unix process groups.
func ownProcessGroup(*exec.Cmd) {}

// terminate kills the started cmd: without Unix signals there is no polite
// request to exit, and redis-server runs without persistence anyway.
func terminate(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// kill kills the started cmd.
func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
