package reviews

import (
	"bytes"
	"encoding/json"
)

// RenderJSON writes a review (Weekly or Monthly) as indented JSON, the
// stable contract described by testdata/*.schema.json. HTML-significant
// characters are escaped (\u003c), so the JSON is safe to embed.
func RenderJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
