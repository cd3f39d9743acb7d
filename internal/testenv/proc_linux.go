package testenv

import (
	"os/exec"
	"syscall"
)

func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// SIGQUIT: PostgreSQL's immediate shutdown; Prometheus dies on it too.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
}
