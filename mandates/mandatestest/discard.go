package mandatestest

import (
	"context"

	"github.com/relais-fr/relais/mandates"
)

// Discard is an event sink and recorder that drops every event, for tests
// that do not read the journal. Never wire it outside a test: an act
// whose event is dropped leaves no trace.
type Discard struct{}

var (
	_ mandates.EventSink     = Discard{}
	_ mandates.EventRecorder = Discard{}
)

// Emit drops e.
func (Discard) Emit(context.Context, mandates.Event) error { return nil }

// Record drops e.
func (Discard) Record(context.Context, mandates.Event) error { return nil }
