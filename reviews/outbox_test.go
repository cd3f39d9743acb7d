package reviews_test

import (
	"testing"

	"github.com/vigil-dev/vigil/reviews"
	"github.com/vigil-dev/vigil/reviews/outboxtest"
)

// MemOutbox is the reference the stores' outboxes are held to.
func TestMemOutboxConformance(t *testing.T) {
	outboxtest.Run(t, func(*testing.T) reviews.Outbox { return &reviews.MemOutbox{} })
}
