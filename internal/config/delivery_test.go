package config

import (
	"testing"
	"time"
)

// schedules.delivery: left out, the app's defaults apply (zero here); set,
// it is read as durations.
func TestScheduleDelivery(t *testing.T) {
	c, err := Parse("vigil.yaml", []byte("schedules: {weekly: \"0 9 * * MON\"}\n"))
	if err != nil || c.Schedules.Delivery != (Delivery{}) {
		t.Fatalf("default: %+v %v", c, err)
	}
	c, err = Parse("vigil.yaml", []byte("schedules:\n  delivery: {interval: 2s, lease: 45s}\n"))
	if err != nil || c.Schedules.Delivery != (Delivery{Interval: 2 * time.Second, Lease: 45 * time.Second}) {
		t.Fatalf("set: %+v %v", c.Schedules.Delivery, err)
	}
	if _, err := Parse("vigil.yaml", []byte("schedules:\n  delivery: {lease: -1m}\n")); err == nil {
		t.Fatal("a negative lease was accepted")
	}
}
