// Package config loads vigil.yaml: strict, with file:line errors, the
// interpolation grammar, and cross-checks between people, teams and services.
package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/vigil-dev/vigil/internal/interp"
	"github.com/vigil-dev/vigil/internal/yamlx"
)

// Config is the whole of vigil.yaml. Later capabilities fill in their own
// sections; the top level is owned here.
type Config struct {
	Server  Server  `yaml:"server"`
	DataDir string  `yaml:"data_dir"`
	Storage Storage `yaml:"storage"`
	Region  string  `yaml:"region"`
	// ExternalLabels are added, beside region, to every probe series and
	// to everything remote-written: replica: ${env:POD_NAME} keeps two
	// runners of one region from writing the same series.
	ExternalLabels map[string]string `yaml:"external_labels"`
	Journeys       []string          `yaml:"journeys"`
	SLOs           []string          `yaml:"slos"`
	Prometheus     Prometheus        `yaml:"prometheus"`
	People         []Person          `yaml:"people"`
	Teams          []Team            `yaml:"teams"`
	Services       []Service         `yaml:"services"`
	Sources        Sources           `yaml:"sources"`
	Support        Support           `yaml:"support"`
	Changes        Changes           `yaml:"changes"`
	Slack          Slack             `yaml:"slack"`
	Org            Org               `yaml:"org"`
	Schedules      Schedules         `yaml:"schedules"`
	Log            Log               `yaml:"log"`
	// Runner is where a runner (serve --role runner) sends run history.
	Runner Runner `yaml:"runner"`
	// RemoteWrite sends vigil's own metrics to a Prometheus remote-write
	// endpoint (protocol 1.0), with region as an external label.
	RemoteWrite RemoteWrite `yaml:"remote_write"`
	Retention   Retention   `yaml:"retention"`

	// File is the path the config was read from; relative paths in it are
	// relative to its directory.
	File string `yaml:"-"`
	// Masker masks every secret the config resolved.
	Masker *interp.Masker `yaml:"-"`
}

type Server struct {
	Listen     string `yaml:"listen"`
	PublicURL  string `yaml:"public_url"`
	TokensFile string `yaml:"tokens_file"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

type Storage struct {
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
}

type Prometheus struct {
	URL         string        `yaml:"url"`
	BearerToken string        `yaml:"bearer_token"`
	Timeout     time.Duration `yaml:"timeout"`
}

// Runner is runner: the server a regional runner pushes run history to.
type Runner struct {
	ServerURL string `yaml:"server_url"`
	// Token is a runner-role token of the server (use ${env:} or ${file:}).
	Token string `yaml:"token"`
}

// RemoteWrite is remote_write.
type RemoteWrite struct {
	URL         string        `yaml:"url"`
	BearerToken string        `yaml:"bearer_token"`
	Timeout     time.Duration `yaml:"timeout"`
	// QueueSamples bounds the samples held while the endpoint is away
	// (oldest dropped first); 0 means the default.
	QueueSamples int `yaml:"queue_samples"`
	// Interval between gathers (default 15s). A runner with thousands of
	// journeys whose own interval is a minute can send every minute: at
	// 10,000 journeys that is about 1.3% of a core instead of 5.2%.
	Interval time.Duration `yaml:"interval"`
}

// Retention is retention: how long data is kept. Ages are durations that
// may use days, like 90d.
type Retention struct {
	Runs string `yaml:"runs"`
	// TSDB is how long the embedded TSDB keeps samples. Left out, it is
	// the history the SLOs read (slo.RequiredHistory), and at least 32d;
	// a value shorter than the SLOs read is refused where they are loaded
	// (app.TSDBRetention), with this key's line.
	TSDB string `yaml:"tsdb"`
	// Record is the age after which the operational record (pages and
	// their classifications, shifts, resolved incidents, solved tickets,
	// change records) is deleted; "0" or "forever" keeps everything.
	Record string `yaml:"record"`

	RunsAge time.Duration `yaml:"-"`
	// TSDBAge is 0 when retention.tsdb is left out (the default applies).
	TSDBAge time.Duration `yaml:"-"`
	// TSDBLine is retention.tsdb's line, for the error found once the
	// SLOs are known.
	TSDBLine int `yaml:"-"`
	// RecordAge is 0 when the record is kept forever.
	RecordAge time.Duration `yaml:"-"`
}

// DefaultRunRetention keeps run history for 90 days.
const DefaultRunRetention = 90 * 24 * time.Hour

// DefaultRecordRetention keeps the operational record for 400 days: a
// monthly review that compares the month just ended with the same month a
// year before reads records 13 calendar months back (at most 397 days on
// the 1st of the next month), and 400d keeps them through the first days
// of that month, when the review is made.
const DefaultRecordRetention = 400 * 24 * time.Hour

// MinRecordRetention is the shortest retention.record accepted: the weekly
// review reads its week and the four before it (35 days), and the monthly
// roll-up a month of ISO weeks up to a week after it ends (42 days).
const MinRecordRetention = 42 * 24 * time.Hour

// ParseAge parses a duration that may be given in days ("90d") or as a Go
// duration ("2160h").
func ParseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var d int
		if _, err := fmt.Sscanf(n, "%d", &d); err == nil && fmt.Sprint(d) == n && d > 0 {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("expected an age like 90d or 720h, found %q", s)
}

type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// Person is someone who goes on call, answers support or writes wins.
// Email is the join key with every outside source.
type Person struct {
	Name        string `yaml:"name"`
	Email       string `yaml:"email"`
	TimeZone    string `yaml:"time_zone"`
	PagerDutyID string `yaml:"pagerduty_id"`
	GitHub      string `yaml:"github"`
	Jira        string `yaml:"jira"`
	Slack       string `yaml:"slack"`

	Location *time.Location `yaml:"-"`
}

type Team struct {
	Name         string   `yaml:"name"`
	TimeZone     string   `yaml:"time_zone"`
	Members      []string `yaml:"members"`
	SlackChannel string   `yaml:"slack_channel"`
	PageSource   string   `yaml:"page_source"`
	// PagerDuty says which PagerDuty teams' incidents belong to this team.
	PagerDuty TeamPagerDuty `yaml:"pagerduty"`
	// Hours are the team's business and sleep hours, applied in each
	// responder's own time zone; empty means PagerDuty's defaults
	// (business 08:00-18:00 Monday to Friday, sleep 22:00-08:00 every day).
	Hours    Hours    `yaml:"hours"`
	Holidays []string `yaml:"holidays"`

	Location *time.Location `yaml:"-"`
}

// TeamPagerDuty is a team's PagerDuty mapping.
type TeamPagerDuty struct {
	TeamIDs []string `yaml:"team_ids"`
}

// Hours are clock ranges "HH:MM-HH:MM"; a range may wrap past midnight.
type Hours struct {
	Business string `yaml:"business"`
	Sleep    string `yaml:"sleep"`
}

// Slack is slack: where reviews are posted. Each team's channel is its
// slack_channel; Channel is the org channel the monthly roll-up goes to.
type Slack struct {
	// Token is a bot token (use ${env:SLACK_BOT_TOKEN}).
	Token string `yaml:"token"`
	// APIURL is Slack's own when empty; tests point it at a local server.
	APIURL  string `yaml:"api_url"`
	Channel string `yaml:"channel"`
}

// Schedules are when reports are made, in each team's time zone: a cron
// expression (minute hour day-of-month month day-of-week), or for the
// monthly roll-up "first-monday HH:MM" (the default), which cron cannot
// say since it ORs day-of-month with day-of-week. "off" disables one.
type Schedules struct {
	Weekly  string `yaml:"weekly"`
	Monthly string `yaml:"monthly"`
	// WinsReminder and WinsDigest are relative to each period's wins
	// deadline (org.wins.deadline): "deadline -24h", "deadline +24h", "off".
	WinsReminder string `yaml:"wins_reminder"`
	WinsDigest   string `yaml:"wins_digest"`
	// Delivery is how the reports' Slack outbox is worked.
	Delivery Delivery `yaml:"delivery"`
}

// Delivery is schedules.delivery. Each server replica looks for due
// outbox entries every Interval; a replica that takes one holds it for
// Lease, after which another replica may take it over (and, before posting
// again, adopts what the first one posted). A replica that dies mid-post
// holds its report back for the rest of the lease, so a shorter lease
// posts sooner after a crash — but it must outlast a whole delivery (every
// Slack call of one report), or a slow live replica is taken over.
type Delivery struct {
	Interval time.Duration `yaml:"interval"`
	Lease    time.Duration `yaml:"lease"`
}

// Delivery defaults and floors.
const (
	DefaultDeliveryInterval = 30 * time.Second
	DefaultDeliveryLease    = 5 * time.Minute
	MinDeliveryInterval     = time.Second
	MinDeliveryLease        = 5 * time.Second
)

// Default schedules.
const (
	DefaultWeeklySchedule  = "0 9 * * MON"
	DefaultMonthlySchedule = "first-monday 09:00"
)

// Sources configures where outside data comes from.
type Sources struct {
	PagerDuty    *PagerDutySource    `yaml:"pagerduty"`
	Alertmanager *AlertmanagerSource `yaml:"alertmanager"`
	GitHub       *GitHubSource       `yaml:"github"`
	Jira         *JiraSource         `yaml:"jira"`
}

// PagerDutySource is sources.pagerduty.
type PagerDutySource struct {
	// Token is a REST API key (use ${env:} or ${file:}).
	Token string `yaml:"token"`
	// APIURL defaults to https://api.pagerduty.com; the EU service region
	// and tests use another host.
	APIURL string `yaml:"api_url"`
	// TeamIDs limits the sync to these PagerDuty teams (all when empty).
	TeamIDs []string `yaml:"team_ids"`
	// WebhookSecrets verify X-PagerDuty-Signature; any one may match.
	WebhookSecrets []string `yaml:"webhook_secrets"`
	// Since is the date the first sync goes back to (YYYY-MM-DD).
	Since string `yaml:"since"`
}

// AlertmanagerSource is sources.alertmanager.
type AlertmanagerSource struct {
	// Token is the bearer token Alertmanager sends to /webhooks/alertmanager.
	Token string `yaml:"token"`
}

// ParseClockRange parses "HH:MM-HH:MM" into minutes after midnight.
func ParseClockRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("expected a range like 08:00-18:00, found %q", s)
	}
	if from, err = parseClock(a); err == nil {
		to, err = parseClock(b)
	}
	if err != nil || from == to {
		return 0, 0, fmt.Errorf("expected a range like 08:00-18:00, found %q", s)
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

type Service struct {
	Name string `yaml:"name"`
	Team string `yaml:"team"`
}

// Defaults fills what a config leaves out.
func (c *Config) defaults() {
	if c.Server.Listen == "" {
		c.Server.Listen = "127.0.0.1:8080"
	}
	if c.Server.ShutdownTimeout == 0 {
		c.Server.ShutdownTimeout = 10 * time.Second
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Storage.Driver == "" {
		c.Storage.Driver = "sqlite"
	}
	if c.Region == "" {
		c.Region = "local"
	}
	if c.Prometheus.Timeout == 0 {
		c.Prometheus.Timeout = 30 * time.Second
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.RemoteWrite.Timeout == 0 {
		c.RemoteWrite.Timeout = 30 * time.Second
	}
	if c.Schedules.Weekly == "" {
		c.Schedules.Weekly = DefaultWeeklySchedule
	}
	if c.Schedules.Monthly == "" {
		c.Schedules.Monthly = DefaultMonthlySchedule
	}
}

// ValidSchedule checks a schedule of the schedules section.
func ValidSchedule(spec string) error {
	if spec == "off" {
		return nil
	}
	if rest, ok := strings.CutPrefix(spec, "first-monday "); ok {
		if _, err := time.Parse("15:04", strings.TrimSpace(rest)); err != nil {
			return fmt.Errorf("expected first-monday HH:MM, found %q", spec)
		}
		return nil
	}
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		return fmt.Errorf("expected a cron expression without a time zone (each team's time_zone applies), found %q", spec)
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("expected a cron expression like %q or first-monday HH:MM, found %q: %v", DefaultWeeklySchedule, spec, err)
	}
	return nil
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &yamlx.Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", unwrap(err))}
	}
	return Parse(path, data)
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Parse validates data as the config file named path.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{File: path, Masker: &interp.Masker{}}
	exp := &interp.Expander{BaseDir: filepath.Dir(path)}
	doc, err := yamlx.Decode(path, data, c, yamlx.Options{Expander: exp})
	if err != nil {
		return nil, err
	}
	c.Masker.Add(doc.Secrets...)
	c.defaults()
	c.validate(doc)
	if err := doc.Err(); err != nil {
		return nil, yamlx.Mask(err, c.Masker)
	}
	c.resolvePaths()
	return c, nil
}

// Default is the configuration used when no file is given.
func Default() *Config {
	c := &Config{File: "(defaults)", Masker: &interp.Masker{}}
	c.defaults()
	c.Retention.RunsAge = DefaultRunRetention
	c.Retention.RecordAge = DefaultRecordRetention
	return c
}

func (c *Config) resolvePaths() {
	base := filepath.Dir(c.File)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.DataDir = rel(c.DataDir)
	c.Server.TokensFile = rel(c.Server.TokensFile)
	for i := range c.Journeys {
		c.Journeys[i] = rel(c.Journeys[i])
	}
	for i := range c.SLOs {
		c.SLOs[i] = rel(c.SLOs[i])
	}
}

func (c *Config) validate(doc *yamlx.Doc) {
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		doc.Errorf("server.listen", "server.listen: expected host:port, found %q", c.Server.Listen)
	}
	switch c.Storage.Driver {
	case "sqlite":
	case "postgres":
		if c.Storage.DSN == "" {
			doc.Errorf("storage.driver", "storage.dsn: expected a PostgreSQL DSN for driver postgres, found none")
		}
	default:
		doc.Errorf("storage.driver", "storage.driver: expected sqlite or postgres, found %q", c.Storage.Driver)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		doc.Errorf("log.format", "log.format: expected text or json, found %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		doc.Errorf("log.level", "log.level: expected debug, info, warn or error, found %q", c.Log.Level)
	}
	for i, g := range c.Journeys {
		if _, err := filepath.Match(g, ""); err != nil {
			doc.Errorf(fmt.Sprintf("journeys[%d]", i), "journeys: invalid glob %q: %v", g, err)
		}
	}
	for i, g := range c.SLOs {
		if _, err := filepath.Match(g, ""); err != nil {
			doc.Errorf(fmt.Sprintf("slos[%d]", i), "slos: invalid glob %q: %v", g, err)
		}
	}

	emails := map[string]bool{}
	for i := range c.People {
		p := &c.People[i]
		path := fmt.Sprintf("people[%d]", i)
		if p.Name == "" {
			doc.Errorf(path, "person: expected a name, found none")
		}
		if p.Email == "" {
			doc.Errorf(path, "person %q: expected an email (the join key with every source), found none", p.Name)
		} else if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
			doc.Errorf(path+".email", "person %q: expected an email address, found %q", p.Name, p.Email)
		} else {
			key := strings.ToLower(p.Email)
			if emails[key] {
				doc.Errorf(path+".email", "person %q: email %s is already used by another person", p.Name, p.Email)
			}
			emails[key] = true
		}
		p.Location = loadTZ(doc, path+".time_zone", p.TimeZone, "person "+quote(p.Name))
	}
	teams := map[string]bool{}
	for i := range c.Teams {
		t := &c.Teams[i]
		path := fmt.Sprintf("teams[%d]", i)
		if t.Name == "" {
			doc.Errorf(path, "team: expected a name, found none")
		} else if teams[t.Name] {
			doc.Errorf(path+".name", "team %q is defined twice", t.Name)
		}
		teams[t.Name] = true
		t.Location = loadTZ(doc, path+".time_zone", t.TimeZone, "team "+quote(t.Name))
		for j, m := range t.Members {
			if !emails[strings.ToLower(m)] {
				doc.Errorf(fmt.Sprintf("%s.members[%d]", path, j), "team %q: member %q is not in people (expected the email of a person)%s", t.Name, m, suggestFrom(m, c.People))
			}
		}
		switch t.PageSource {
		case "", "pagerduty", "alertmanager", "file":
		default:
			doc.Errorf(path+".page_source", "team %q: page_source: expected pagerduty, alertmanager or file, found %q", t.Name, t.PageSource)
		}
		for _, h := range []struct{ key, val string }{{"business", t.Hours.Business}, {"sleep", t.Hours.Sleep}} {
			if h.val == "" {
				continue
			}
			if _, _, err := ParseClockRange(h.val); err != nil {
				doc.Errorf(path+".hours."+h.key, "team %q: hours.%s: %v", t.Name, h.key, err)
			}
		}
		for j, h := range t.Holidays {
			if _, err := time.Parse(time.DateOnly, h); err != nil {
				doc.Errorf(fmt.Sprintf("%s.holidays[%d]", path, j), "team %q: holiday: expected a date like 2026-12-25, found %q", t.Name, h)
			}
		}
	}
	if pd := c.Sources.PagerDuty; pd != nil {
		if pd.Token == "" {
			doc.Errorf("sources.pagerduty", "sources.pagerduty: expected a token (use ${env:PAGERDUTY_TOKEN}), found none")
		}
		if pd.APIURL != "" {
			if u, err := url.Parse(pd.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				doc.Errorf("sources.pagerduty.api_url", "sources.pagerduty.api_url: expected an http(s) URL like https://api.eu.pagerduty.com, found %q", pd.APIURL)
			}
		}
		if pd.Since != "" {
			if _, err := time.Parse(time.DateOnly, pd.Since); err != nil {
				doc.Errorf("sources.pagerduty.since", "sources.pagerduty.since: expected a date like 2026-01-01, found %q", pd.Since)
			}
		}
	}
	if am := c.Sources.Alertmanager; am != nil && am.Token == "" {
		doc.Errorf("sources.alertmanager", "sources.alertmanager: expected a token (use ${env:AM_WEBHOOK_TOKEN}), found none")
	}
	if c.Slack.APIURL != "" {
		if u, err := url.Parse(c.Slack.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			doc.Errorf("slack.api_url", "slack.api_url: expected an http(s) URL like https://slack.com/api/, found %q", c.Slack.APIURL)
		}
	}
	if c.Slack.Token == "" && (c.Slack.APIURL != "" || c.Slack.Channel != "") {
		doc.Errorf("slack", "slack: expected a token (use ${env:SLACK_BOT_TOKEN}), found none")
	}
	for _, sc := range []struct{ key, val string }{{"weekly", c.Schedules.Weekly}, {"monthly", c.Schedules.Monthly}} {
		if err := ValidSchedule(sc.val); err != nil {
			doc.Errorf("schedules."+sc.key, "schedules.%s: %v", sc.key, err)
		}
	}
	if d := c.Schedules.Delivery; d.Interval != 0 && d.Interval < MinDeliveryInterval {
		doc.Errorf("schedules.delivery.interval", "schedules.delivery.interval: expected a duration of at least %s, found %s", MinDeliveryInterval, d.Interval)
	}
	if d := c.Schedules.Delivery; d.Lease != 0 && d.Lease < MinDeliveryLease {
		doc.Errorf("schedules.delivery.lease", "schedules.delivery.lease: expected a duration of at least %s, found %s", MinDeliveryLease, d.Lease)
	}
	services := map[string]bool{}
	for i, s := range c.Services {
		path := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			doc.Errorf(path, "service: expected a name, found none")
		} else if services[s.Name] {
			doc.Errorf(path+".name", "service %q is defined twice", s.Name)
		}
		services[s.Name] = true
		if s.Team == "" {
			doc.Errorf(path, "service %q: expected a team, found none", s.Name)
		} else if !teams[s.Team] {
			doc.Errorf(path+".team", "service %q: team %q is not defined in teams (expected one of: %s)", s.Name, s.Team, strings.Join(sortedKeys(teams), ", "))
		}
	}
	c.validateRecords(doc, teams, services)
	c.validateOrg(doc, teams)
	c.validateDeploy(doc)
}

// ReservedLabels are label names external_labels may not set: region has
// its own key, the others are the probe metrics' own labels.
var ReservedLabels = []string{"region", "journey", "step", "result", "reason", "le"}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Labels returns region and external_labels: the labels every probe series
// and every remote-written series carries.
func (c *Config) Labels() map[string]string {
	out := map[string]string{"region": c.Region}
	for k, v := range c.ExternalLabels {
		out[k] = v
	}
	return out
}

// validateDeploy checks external_labels, runner, remote_write and retention.
func (c *Config) validateDeploy(doc *yamlx.Doc) {
	for _, k := range sortedKeys(c.ExternalLabels) {
		p := "external_labels." + k
		switch {
		case !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__"):
			doc.Errorf(p, "external_labels: expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __), found %q", k)
		case slices.Contains(ReservedLabels, k):
			doc.Errorf(p, "external_labels: %q is reserved (region has its own key; %s are the probe metrics' labels)", k, strings.Join(ReservedLabels[1:], ", "))
		case c.ExternalLabels[k] == "":
			doc.Errorf(p, "external_labels.%s: expected a value, found none", k)
		}
	}
	if c.Runner.ServerURL != "" && !httpURL(c.Runner.ServerURL) {
		doc.Errorf("runner.server_url", "runner.server_url: expected an http(s) URL like https://vigil.example.com, found %q", c.Runner.ServerURL)
	}
	if c.Runner.ServerURL != "" && c.Runner.Token == "" {
		doc.Errorf("runner", "runner: expected a runner token (use ${env:VIGIL_RUNNER_TOKEN}), found none")
	}
	if rw := c.RemoteWrite; rw.URL != "" && !httpURL(rw.URL) {
		doc.Errorf("remote_write.url", "remote_write.url: expected an http(s) URL like http://prometheus:9090/api/v1/write, found %q", rw.URL)
	}
	if c.RemoteWrite.Interval < 0 || (c.RemoteWrite.Interval > 0 && c.RemoteWrite.Interval < time.Second) {
		doc.Errorf("remote_write.interval", "remote_write.interval: expected a duration of at least 1s, found %s", c.RemoteWrite.Interval)
	}
	if c.RemoteWrite.QueueSamples < 0 {
		doc.Errorf("remote_write.queue_samples", "remote_write.queue_samples: expected a number of samples >= 0, found %d", c.RemoteWrite.QueueSamples)
	}
	c.Retention.RunsAge = DefaultRunRetention
	if c.Retention.Runs != "" {
		d, err := ParseAge(c.Retention.Runs)
		if err != nil {
			doc.Errorf("retention.runs", "retention.runs: %v", err)
		}
		c.Retention.RunsAge = d
	}
	if c.Retention.TSDB != "" {
		d, err := ParseAge(c.Retention.TSDB)
		if err != nil {
			doc.Errorf("retention.tsdb", "retention.tsdb: %v", err)
		}
		c.Retention.TSDBAge = d
		c.Retention.TSDBLine = doc.Line("retention.tsdb")
	}
	c.Retention.RecordAge = DefaultRecordRetention
	switch r := c.Retention.Record; r {
	case "":
	case "0", "forever":
		c.Retention.RecordAge = 0
	default:
		d, err := ParseAge(r)
		switch {
		case err != nil:
			doc.Errorf("retention.record", `retention.record: expected an age like 400d or 9600h, or "forever", found %q`, r)
		case d < MinRecordRetention:
			doc.Errorf("retention.record", "retention.record: expected at least 42d (the weekly review reads five weeks back, the monthly roll-up a month a week after it ends), found %s", r)
		}
		c.Retention.RecordAge = d
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func loadTZ(doc *yamlx.Doc, path, name, who string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		doc.Errorf(path, "%s: time_zone: expected an IANA time zone like Europe/Berlin, found %q", who, name)
		return time.UTC
	}
	return loc
}

func suggestFrom(email string, people []Person) string {
	for _, p := range people {
		if strings.EqualFold(p.Name, email) {
			return fmt.Sprintf(" (did you mean %q?)", p.Email)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// PersonByEmail finds a person by email, case-insensitively.
func (c *Config) PersonByEmail(email string) (*Person, bool) {
	for i := range c.People {
		if strings.EqualFold(c.People[i].Email, email) {
			return &c.People[i], true
		}
	}
	return nil, false
}

// Expand globs into sorted, de-duplicated file lists.
func Expand(globs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
