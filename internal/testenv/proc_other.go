//go:build !linux

package testenv

import "os/exec"

func setParentDeathSignal(cmd *exec.Cmd) {}
