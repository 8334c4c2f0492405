package jsoncol

import "encoding/json"

// Array writes a list as a JSON array, never null. The lists the stores
// write hold strings and string-only structs, which always marshal.
func Array[T any](v []T) string {
	if v == nil {
		v = []T{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
