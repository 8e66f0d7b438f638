package veiltest

import (
	"encoding/json"

	"veil/classification"
)

// Withheld expands the response's withheld report as a client does
// (classification.Expand): it maps each withheld value's dotted path
// ("users.edges.3.node.phone") to "class/DECISION", and fails on a report
// that cannot be read exactly.
func (r Response) Withheld() (map[string]string, error) {
	raw, err := json.Marshal(r.Extensions[classification.ExtensionKey])
	if err != nil {
		return nil, err
	}
	var report classification.WithheldList
	if string(raw) != "null" {
		if err := json.Unmarshal(raw, &report); err != nil {
			return nil, err
		}
	}
	values, err := classification.Expand(map[string]any(r.Data), report)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(values))
	for p, w := range values {
		out[p] = w.Class + "/" + w.Decision
	}
	return out, nil
}
