package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: sysconf
// (_SC_CLK_TCK), which is 100 on every Linux the tool runs on.
const clockTick = 10 * time.Millisecond

// server reads what the measured server process spends, from /proc, around
// each measured phase (-pid).
type server struct {
	pid int
	out io.Writer
	// lifetimePeak: resetting VmHWM failed once (not the process owner,
	// or no clear_refs), so every peak read is the process's lifetime peak.
	lifetimePeak bool
}

// serverUse is what the server spent in one measured phase.
type serverUse struct {
	cpu    time.Duration // user and system CPU time
	peakKB int64         // VmHWM at the end of the phase
}

// serverMark is the CPU time read at the start of a phase.
type serverMark struct{ ticks int64 }

func newServer(pid int, out io.Writer) *server {
	if pid <= 0 {
		return nil
	}
	return &server{pid: pid, out: out}
}

// begin resets the server's peak RSS to its current RSS and reads its CPU
// time. Writing 5 to clear_refs resets VmHWM (Linux 4.0 and later); it is
// refused to anyone but the process owner or root, and then the peak read
// at the end is the lifetime peak, which the output says once.
func (s *server) begin() (serverMark, error) {
	if !s.lifetimePeak {
		if err := clearRefs(s.pid); err != nil {
			s.lifetimePeak = true
			fmt.Fprintf(s.out, "note: cannot reset the peak RSS of pid %d (%v): the peak RSS reported is its lifetime peak\n", s.pid, err)
		}
	}
	ticks, err := cpuTicks(s.pid)
	return serverMark{ticks}, err
}

// end reads the CPU time spent since m and the peak RSS.
func (s *server) end(m serverMark) (serverUse, error) {
	ticks, err := cpuTicks(s.pid)
	if err != nil {
		return serverUse{}, err
	}
	kb, err := peakRSSKB(s.pid)
	if err != nil {
		return serverUse{}, err
	}
	return serverUse{cpu: time.Duration(ticks-m.ticks) * clockTick, peakKB: kb}, nil
}

func clearRefs(pid int) error {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("5"))
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("-pid %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("-pid %d: %w", pid, err)
	}
	return ticks, nil
}

// parseStatCPU returns utime + stime, in clock ticks, from a line of
// /proc/PID/stat. The second field, the command name in parentheses, may
// hold spaces and parentheses itself, so the fields are counted from the
// last ')': then come state (field 3), and utime and stime are fields 14
// and 15 (proc(5)).
func parseStatCPU(line string) (int64, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, errors.New("stat: too few fields")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat: %w", err)
	}
	return utime + stime, nil
}

// peakRSSKB is peakRSS in kB.
func peakRSSKB(pid int) (int64, error) {
	v, err := peakRSS(pid)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("-pid %d: VmHWM %q: %w", pid, v, err)
	}
	return n, nil
}
