package reviews

// Metric and label names of review delivery, in one place: the delivery
// metrics (NewMetrics), the outbox gauges vigil exports (internal/app's
// measures collector) and the dashboards use these; nothing retypes them.
const (
	// MetricDeliveryFailures counts deliveries that ended failed, by error.
	MetricDeliveryFailures = "vigil_review_delivery_failures_total"
	// MetricDeliveries counts reviews delivered to Slack.
	MetricDeliveries = "vigil_review_deliveries_total"
	// MetricClaimsLost counts delivery attempts stopped because their
	// claim was lost: the lease ran out and another deliverer took the
	// entry over (or it was finished or removed) while this one was still
	// at it.
	MetricClaimsLost = "vigil_review_delivery_claims_lost_total"
	// MetricOutboxEntries counts outbox entries by state (label state).
	MetricOutboxEntries = "vigil_review_outbox_entries"
	// MetricOutboxOldestDue is the age in seconds of the oldest entry that
	// is due and not delivered (pending or sending past its lease): a stuck
	// delivery shows as a growing age. 0 when nothing is due.
	MetricOutboxOldestDue = "vigil_review_outbox_oldest_due_age_seconds"

	// LabelError and LabelState label the metrics above.
	LabelError = "error"
	LabelState = "state"
)

// States lists the outbox entry states, for the entries gauge.
var States = []string{StatePending, StateSending, StateDelivered, StateFailed}
