package oncall

// The on-call, support and change measures as Prometheus series, in one
// place: internal/app's measures collector exports them and the dashboards
// query them; nothing else retypes a name.
//
// Every series is a gauge holding the team's current ISO week so far (team
// time zone), so its last sample in a week is that week's figure; past
// weeks written at their own timestamps (the week's last second) read the
// same way. Cardinality per team: about 40 series, plus 3 per person
// (hours buckets), 2 per person (share, weeks), at most TopAlerts noisy
// alerts, and one per support category.
const (
	// MetricPages counts the week's pages by urgency (high, low).
	MetricPages = "vigil_oncall_pages"
	// MetricBusinessImpacting counts high-urgency pages classified as
	// business-impacting: the book's five-a-week line reads this.
	MetricBusinessImpacting = "vigil_oncall_business_impacting_pages"
	// MetricFalseAlarms counts pages classified as false alarms.
	MetricFalseAlarms = "vigil_oncall_false_alarm_pages"
	// MetricUnclassified counts pages nobody has classified yet.
	MetricUnclassified = "vigil_oncall_unclassified_pages"
	// MetricInterruptions counts notifications that reached a person.
	MetricInterruptions = "vigil_oncall_interruptions"
	// MetricHoursInterrupted counts distinct clock hours with an interruption
	// (named for slots, as promlint reserves "hours" for units).
	MetricHoursInterrupted = "vigil_oncall_interrupted_hour_slots"
	// MetricPagesByHours counts responders' pages by when they reached them
	// (label hours: business, off, sleep), summed over the team.
	MetricPagesByHours = "vigil_oncall_pages_by_time_of_day"
	// MetricTimeToAck and MetricTimeToResolve are MTTA and MTTR in seconds
	// (label stat: mean, p50, p90).
	MetricTimeToAck     = "vigil_oncall_time_to_ack_seconds"
	MetricTimeToResolve = "vigil_oncall_time_to_resolve_seconds"
	// MetricEscalated counts pages that reached escalation level 2.
	MetricEscalated = "vigil_oncall_escalated_pages"
	// MetricRotationSize is everyone with an on-call week in the trailing 8.
	MetricRotationSize = "vigil_oncall_rotation_size"
	// MetricPersonPages is one responder's pages by hours bucket.
	MetricPersonPages = "vigil_oncall_person_pages"
	// MetricPersonOnCallShare is a responder's level-1 share of the trailing
	// four weeks (0..1); the book's line is one week in four.
	MetricPersonOnCallShare = "vigil_oncall_person_oncall_share"
	// MetricPagesByHourOfWeek counts the week's high-urgency pages by when
	// they were created, in the team's time zone (labels day: DaysOfWeek,
	// hour: "00".."23"); only cells with a page are exported, so a team has
	// at most 168 of these series and a quiet week none.
	MetricPagesByHourOfWeek = "vigil_oncall_pages_by_hour_of_week"
	// MetricAlertPages counts the week's noisiest alerts' pages (at most
	// TopAlerts per team, by normalised title).
	MetricAlertPages = "vigil_oncall_alert_pages"

	// MetricSupportCreated and MetricSupportSolved count the week's tickets.
	MetricSupportCreated = "vigil_support_tickets_created"
	MetricSupportSolved  = "vigil_support_tickets_solved"
	// MetricSupportOpen is the backlog: tickets open at the end of the week
	// (now, for the current week).
	MetricSupportOpen = "vigil_support_tickets_open"
	// MetricSupportSLABreaches counts SLA breaches (label goal:
	// first_response, resolution), over every priority.
	MetricSupportSLABreaches = "vigil_support_sla_breaches"
	// MetricSupportByCategory counts the week's tickets by category.
	MetricSupportByCategory = "vigil_support_tickets_by_category"

	// MetricChanges counts the week's production changes.
	MetricChanges = "vigil_changes"
	// MetricChangesCompliant counts changes that kept a rule (label rule:
	// documented, reviewed, tested, all_three).
	MetricChangesCompliant = "vigil_changes_compliant"
	// MetricChangesFailed counts changes that led to a failure.
	MetricChangesFailed = "vigil_changes_failed"
	// MetricChangeFailureRatio is failed over changes (0..1).
	MetricChangeFailureRatio = "vigil_change_failure_ratio"
	// MetricDeployments counts the week's deployments.
	MetricDeployments = "vigil_deployments"

	// MetricMeasuresRefresh is unix seconds of the last good refresh of the
	// measures from the store; MetricMeasuresErrors counts failed ones.
	MetricMeasuresRefresh = "vigil_measures_last_refresh_timestamp_seconds"
	MetricMeasuresErrors  = "vigil_measures_refresh_errors_total"
	// MetricSourceCursor is unix seconds a source's saved cursor has read
	// up to (labels source, cursor): now minus it is the sync lag.
	MetricSourceCursor = "vigil_source_cursor_timestamp_seconds"
)

// Label names of the measures.
const (
	LabelTeam     = "team"
	LabelUrgency  = "urgency"
	LabelHours    = "hours"
	LabelStat     = "stat"
	LabelPerson   = "person"
	LabelAlert    = "alert"
	LabelGoal     = "goal"
	LabelCategory = "category"
	LabelRule     = "rule"
	LabelSource   = "source"
	LabelCursor   = "cursor"
	LabelDay      = "day"
	LabelHour     = "hour"
)

// DaysOfWeek are the values of the day label, Monday first (ISO order);
// the number keeps them sorted where a table sorts them as text.
var DaysOfWeek = [7]string{"1-Mon", "2-Tue", "3-Wed", "4-Thu", "5-Fri", "6-Sat", "7-Sun"}

// Values of the urgency, stat, goal and rule labels.
const (
	UrgencyHigh = "high"
	UrgencyLow  = "low"

	StatMean = "mean"
	StatP50  = "p50"
	StatP90  = "p90"

	GoalFirstResponse = "first_response"
	GoalResolution    = "resolution"

	RuleDocumented = "documented"
	RuleReviewed   = "reviewed"
	RuleTested     = "tested"
	RuleAllThree   = "all_three"
)

// HoursBuckets lists the values of the hours label, in reading order.
var HoursBuckets = []Bucket{Business, Off, Sleep}
