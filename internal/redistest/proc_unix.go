//go:build unix

package redistest

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a process group of its own (pgid == pid).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the started cmd to exit (SIGTERM to its PID).
func terminate(cmd *exec.Cmd) {
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
}

// kill ends the started cmd and anything it started: SIGKILL to the process
// group that ownProcessGroup created.
func kill(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
