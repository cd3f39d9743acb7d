package testenv

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestVictoriaMetrics(t *testing.T) {
	u := VictoriaMetrics(t)
	resp, err := http.Post(u+"/api/v1/import/prometheus", "text/plain", strings.NewReader("vigil_testenv_up{region=\"eu\"} 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("import: %s", resp.Status)
	}
	// A new series is searchable about a second after it arrives (its
	// index entry is registered in the background).
	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err = http.Get(u + "/internal/force_flush"); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = http.Get(u + "/api/v1/query?query=" + url.QueryEscape(`vigil_testenv_up{region="eu"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.Contains(string(body), `"vigil_testenv_up"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query: %s %s", resp.Status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The remote-write receiver answers: an empty POST is not a 404.
	resp2, err := http.Post(u+"/api/v1/write", "application/x-protobuf", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode == http.StatusNotFound {
		t.Errorf("remote write: %s", resp2.Status)
	}
}
