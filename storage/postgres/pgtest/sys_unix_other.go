//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (if not nil) in its own process
// group. Without Linux's parent-death signal, a server outlives a test
// binary that dies without stopping it.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
