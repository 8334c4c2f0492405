package main

import (
	"os"
	"testing"
)

// TestParseStatCPU: utime and stime are read after the last ')', since the
// command name may hold spaces and parentheses.
func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    int64
		wantErr bool
	}{
		{"a plain command name",
			"4242 (relais) S 1 4242 4242 0 -1 4194560 18000 0 3 0 1250 340 0 0 20 0 9 0 123456 1530000000 12000 18446744073709551615\n",
			1590, false},
		{"a name with spaces and parentheses",
			"77 (a b) (c) ) R 1 77 77 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 99 1000 10 0\n",
			12, false},
		{"a line cut short", "77 (relais) S 1 77 77 0 -1 0 0 0 0 0 7", 0, true},
		{"no command name", "77 relais S 1 77 77 0 -1 0 0 0 0 0 7 5 0 0", 0, true},
		{"a field that is not a number", "77 (relais) S 1 77 77 0 -1 0 0 0 0 0 x 5 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.line)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestServerReadsItsOwnProcess: on this very process, begin and end read
// a CPU time that does not go backwards and a peak RSS above zero.
func TestServerReadsItsOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("the load tool reads the server from /proc, which every Linux has: %v", err)
	}
	s := newServer(os.Getpid(), t.Output())
	m, err := s.begin()
	if err != nil {
		t.Fatal(err)
	}
	sink := 0
	for i := range 50_000_000 {
		sink += i % 7
	}
	use, err := s.end(m)
	if err != nil {
		t.Fatal(err)
	}
	if use.cpu < 0 || use.peakKB <= 0 {
		t.Errorf("read cpu %s, peak %d kB (sink %d)", use.cpu, use.peakKB, sink)
	}
	if newServer(0, t.Output()) != nil {
		t.Error("without -pid there is no server to read")
	}
}
