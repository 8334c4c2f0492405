//go:build !unix

package pgtest

import (
	"errors"
	"os"
	"syscall"
)

// Throwaway clusters need Unix process credentials and signals; elsewhere
// only RELAIS_TEST_POSTGRES works.
const platformSupported = false

var errUnsupported = errors.New("not supported on this platform")

func serverCredential() (*credential, error)       { return nil, errUnsupported }
func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }
func lockFile(string) (*os.File, error)            { return nil, errUnsupported }
func tryLockFile(string) (*os.File, error)         { return nil, errUnsupported }
func processAlive(int) bool                        { return true }

type credential struct{ Uid, Gid uint32 }
