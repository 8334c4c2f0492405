//go:build linux

package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (if not nil), in its own process
// group (a Ctrl-C in the terminal reaches the test binary only), and has the
// kernel send it SIGQUIT (immediate shutdown) when the test binary dies
// without stopping it, e.g. on a panic, a test timeout or kill -9.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
}
