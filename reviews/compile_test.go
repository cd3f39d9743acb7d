package reviews

import (
	"context"
	"testing"
)

func compileFixture(t testing.TB) *Weekly {
	t.Helper()
	src, dir := fixture(t)
	w, err := Compile(context.Background(), src, dir, "payments", fixtureWeek, Options{Now: fixtureNow})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
