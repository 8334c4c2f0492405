package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process this program started, and whether it has exited.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // its Wait's answer, once done is closed
	log  *os.File
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// procs holds every process started, so that cleanup stops them all,
// and only them.
type procs struct {
	mu   sync.Mutex
	list []*proc
	// as is the user PostgreSQL and Patroni run as: postgres when this
	// program runs as root (PostgreSQL refuses to run as root), else nil
	// (this user).
	as *syscall.Credential
}

// postgresCredential is the postgres user's, when running as root.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("run as root, this needs the postgres user (install postgresql-15): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs bin with args, its output in logFile; asPostgres runs it as
// the postgres user, by the process's credentials rather than through
// runuser: runuser forks, so the PID here would be runuser's, and a kill
// -9 of it would leave Patroni running. Each process gets its own process
// group, so a Ctrl-C at the terminal reaches this program only, which
// then stops them in order.
func (ps *procs) start(name, logFile string, env []string, asPostgres bool, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = f, f, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if asPostgres && ps.as != nil {
		cmd.SysProcAttr.Credential = ps.as
		if err := os.Chown(logFile, int(ps.as.Uid), int(ps.as.Gid)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: f}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// stop sends sig to p and waits up to grace for it to exit, then kills
// it.
func stop(p *proc, sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// postmasterPID reads the PID on the first line of dataDir's
// postmaster.pid; 0 when there is none.
func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(dataDir + "/postmaster.pid")
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return parsePostmasterPID(b)
}

// parsePostmasterPID reads the first line of a postmaster.pid file.
func parsePostmasterPID(b []byte) (int, error) {
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(strings.TrimSpace(string(first)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("postmaster.pid's first line %q is not a PID", first)
	}
	return pid, nil
}

// isPostgres says whether pid runs a postgres binary: a postmaster.pid
// left by a killed server may name a PID reused since.
func isPostgres(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && strings.HasSuffix(exe, "/postgres")
}

// killPostmaster sends SIGKILL to the postmaster of dataDir, if one runs;
// it returns the PID killed, 0 when none ran.
func killPostmaster(dataDir string) (int, error) {
	pid, err := postmasterPID(dataDir)
	if err != nil || pid == 0 || !isPostgres(pid) {
		return 0, err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("kill postmaster %d: %w", pid, err)
	}
	return pid, nil
}
