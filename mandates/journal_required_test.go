package mandates

import "testing"

// TestNewServiceNeedsASink: a service without an event sink would change
// representations with no trace in the journal; it is refused at start.
func TestNewServiceNeedsASink(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewService with a nil sink did not panic")
		}
	}()
	NewService(nil, nil, ServiceConfig{})
}
