// Package slackfake is a stand-in for Slack's Web API in tests. It is
// slack-go's slacktest server with what vigil's delivery uses and slacktest
// lacks: a chat.postMessage that keeps each channel's history, with threads
// and message metadata; conversations.history and conversations.replies
// (metadata only with include_all_metadata; oldest, latest, inclusive;
// limit and cursor pages); conversations.open; and the external file upload
// flow (files.getUploadURLExternal, the upload URL,
// files.completeUploadExternal). It speaks Slack's wire format, so what it
// serves is slack-go's real client, in the test's process or in a built
// binary pointed at URL.
//
// Every call is recorded with the bot token it carried, so a test with
// several clients (several replicas, each with its own token) can tell
// which one did what. Knobs make the next calls fail, and HoldReply accepts
// a message but never answers, which is what a client sees when it dies, or
// its network does, between Slack's doing and its answer; DelayReply
// accepts one and answers only when the test says so, which is what a slow
// client (a paused process, a congested network) sees.
package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// Token is the bot token a new Server accepts.
const Token = "xoxb-test-token"

// Message is a message as the stand-in keeps it (and as Slack's API
// returns it).
type Message struct {
	TS       string          `json:"ts"`
	Text     string          `json:"text"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	// Metadata is the message metadata as posted: {"event_type": ...,
	// "event_payload": {...}}.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Files    []File          `json:"files,omitempty"`
	// Channel is where it was posted; Token, the token it was posted with.
	Channel string `json:"-"`
	Token   string `json:"-"`
}

// Meta is the message's metadata: its event type and payload (values as
// strings, as Slack keeps them).
func (m Message) Meta() (eventType string, payload map[string]string) {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(m.Metadata, &md) != nil {
		return "", nil
	}
	payload = map[string]string{}
	for k, v := range md.EventPayload {
		payload[k] = fmt.Sprint(v)
	}
	return md.EventType, payload
}

// File is a file shared in a channel or thread.
type File struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Size  int    `json:"size,omitempty"`
}

// Call is one request the stand-in answered (or held).
type Call struct {
	// Method is the Web API method ("chat.postMessage"), or "upload" for
	// the upload URL.
	Method string
	Token  string
	Params url.Values
}

// Server is the stand-in. Its methods are safe to call while clients use it.
type Server struct {
	srv  *slacktest.Server
	done chan struct{} // closed when the test ends: held replies give up

	mu       sync.Mutex
	tokens   map[string]bool
	now      func() time.Time
	lastTS   int64                // microseconds of the last ts minted
	channels map[string][]Message // channel → top-level messages, oldest first
	threads  map[string][]Message // parent ts → replies, oldest first
	seq      int
	posts    int // messages accepted
	uploads  int // files completed
	opens    int // conversations.open answered
	bytesIn  map[string]int
	calls    []Call
	holds    []*hold

	rateLimit int    // answer the next N posts with 429 Retry-After: 1
	failPosts int    // answer the next N posts with HTTP 500
	postError string // answer every post with ok:false and this error
}

type hold struct {
	match   func(Message) bool
	got     chan Message
	release chan struct{} // closed to answer; nil: never
}

// New starts a stand-in with these channels, accepting Token; it stops
// when the test ends.
func New(t testing.TB, channels ...string) *Server {
	s := &Server{done: make(chan struct{}), tokens: map[string]bool{Token: true}, now: time.Now,
		channels: map[string][]Message{}, threads: map[string][]Message{}, bytesIn: map[string]int{}}
	for _, c := range channels {
		s.channels[c] = nil
	}
	s.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		for path, h := range map[string]http.HandlerFunc{
			"/chat.postMessage":             s.postMessage,
			"/conversations.history":        s.history,
			"/conversations.replies":        s.replies,
			"/conversations.open":           s.openConversation,
			"/files.getUploadURLExternal":   s.getUploadURL,
			"/upload/":                      s.upload,
			"/files.completeUploadExternal": s.completeUpload,
		} {
			c.Handle(path, s.record(h))
		}
	})
	s.srv.Start()
	t.Cleanup(func() {
		close(s.done)
		s.srv.Stop()
	})
	return s
}

// URL is the API URL to give the client (slack.OptionAPIURL, slack.api_url).
func (s *Server) URL() string { return s.srv.GetAPIURL() }

// AllowToken makes the stand-in accept these bot tokens too.
func (s *Server) AllowToken(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		s.tokens[t] = true
	}
}

// SetClock sets the clock message timestamps are made from (time.Now by
// default), for clients that run on a test clock: a ts is the time it was
// posted, which conversations.history's oldest and latest compare with.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// RateLimit answers the next n chat.postMessage calls with 429 and
// Retry-After: 1.
func (s *Server) RateLimit(n int) { s.mu.Lock(); s.rateLimit = n; s.mu.Unlock() }

// FailPosts answers the next n chat.postMessage calls with HTTP 500.
func (s *Server) FailPosts(n int) { s.mu.Lock(); s.failPosts = n; s.mu.Unlock() }

// PostError answers every chat.postMessage with ok:false and this error
// ("" ends it).
func (s *Server) PostError(code string) { s.mu.Lock(); s.postError = code; s.mu.Unlock() }

// HoldReply arms a trap for the next chat.postMessage that match accepts:
// the message is posted — it is in the channel's history, as when Slack
// has done its part — but no reply is ever sent. The handler waits until
// the client hangs up (its process was killed) or the test ends, then drops
// the connection. The message is sent on the returned channel once posted.
func (s *Server) HoldReply(match func(Message) bool) <-chan Message {
	h := &hold{match: match, got: make(chan Message, 1)}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	return h.got
}

// DelayReply arms a trap like HoldReply's, for the next chat.postMessage
// that match accepts, except that the reply is sent, as usual, once release
// is called (if the client has not hung up by then): the message is in the
// channel from the start, and the client learns of it only when the test
// lets it. The message is sent on the returned channel once posted.
func (s *Server) DelayReply(match func(Message) bool) (posted <-chan Message, release func()) {
	h := &hold{match: match, got: make(chan Message, 1), release: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	var once sync.Once
	return h.got, func() { once.Do(func() { close(h.release) }) }
}

// Counts is how many messages were posted and files uploaded.
func (s *Server) Counts() (posts, uploads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts, s.uploads
}

// Opens is how many conversations.open calls were answered.
func (s *Server) Opens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// TopLevel is a channel's top-level messages, oldest first.
func (s *Server) TopLevel(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.channels[channel]...)
}

// Thread is the replies to the message ts, oldest first.
func (s *Server) Thread(ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.threads[ts]...)
}

// Calls is every request so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) record(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/")
		if strings.HasPrefix(method, "upload/") {
			method = "upload"
		} else if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: method, Token: tokenOf(r), Params: r.Form})
		s.mu.Unlock()
		h(w, r)
	}
}

func tokenOf(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	return r.FormValue("token")
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code string) {
	reply(w, map[string]any{"ok": false, "error": code})
}

// authed is called with s.mu held.
func (s *Server) authed(r *http.Request) bool { return s.tokens[tokenOf(r)] }

// mintTS is a new message timestamp: the clock's time in microseconds,
// made unique and increasing as Slack's are. Called with s.mu held.
func (s *Server) mintTS() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// parseTS reads a Slack timestamp ("1700000000.000100", or whole seconds)
// as microseconds.
func parseTS(ts string) (int64, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	frac = (frac + "000000")[:6]
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, false
	}
	return s*1e6 + f, true
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	switch {
	case s.rateLimit > 0:
		s.rateLimit--
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case s.failPosts > 0:
		s.failPosts--
		s.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		return
	case !s.authed(r):
		s.mu.Unlock()
		fail(w, "invalid_auth")
		return
	case s.postError != "":
		code := s.postError
		s.mu.Unlock()
		fail(w, code)
		return
	}
	ch := r.FormValue("channel")
	if _, ok := s.channels[ch]; !ok {
		s.mu.Unlock()
		fail(w, "channel_not_found")
		return
	}
	m := Message{Text: r.FormValue("text"), ThreadTS: r.FormValue("thread_ts"), Channel: ch, Token: tokenOf(r)}
	if b := r.FormValue("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			s.mu.Unlock()
			fail(w, "invalid_blocks")
			return
		}
		m.Blocks = json.RawMessage(b)
	}
	if md := r.FormValue("metadata"); md != "" {
		var v struct {
			EventType string `json:"event_type"`
		}
		if json.Unmarshal([]byte(md), &v) != nil || v.EventType == "" {
			s.mu.Unlock()
			fail(w, "invalid_metadata_format")
			return
		}
		m.Metadata = json.RawMessage(md)
	}
	if m.Text == "" && m.Blocks == nil {
		s.mu.Unlock()
		fail(w, "no_text")
		return
	}
	if m.ThreadTS != "" && !s.hasTopLevel(ch, m.ThreadTS) {
		s.mu.Unlock()
		fail(w, "thread_not_found")
		return
	}
	m.TS = s.mintTS()
	if m.ThreadTS != "" {
		s.threads[m.ThreadTS] = append(s.threads[m.ThreadTS], m)
	} else {
		s.channels[ch] = append(s.channels[ch], m)
	}
	s.posts++
	var held *hold
	for i, h := range s.holds {
		if h.match(m) {
			held = h
			s.holds = append(s.holds[:i], s.holds[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if held != nil {
		held.got <- m
		select {
		case <-held.release: // a nil channel (HoldReply) never is
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // drop the connection unanswered
		case <-s.done:
			panic(http.ErrAbortHandler)
		}
	}
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": wire(m, true)})
}

// hasTopLevel is called with s.mu held.
func (s *Server) hasTopLevel(ch, ts string) bool {
	for _, m := range s.channels[ch] {
		if m.TS == ts {
			return true
		}
	}
	return false
}

// wireMessage is a message in an API answer.
type wireMessage struct {
	Type       string `json:"type"`
	ReplyCount int    `json:"reply_count,omitempty"`
	Message
}

func wire(m Message, metadata bool) wireMessage {
	if !metadata {
		m.Metadata = nil
	}
	return wireMessage{Type: "message", Message: m}
}

func includeMetadata(r *http.Request) bool {
	v := r.FormValue("include_all_metadata")
	return v == "true" || v == "1"
}

// window keeps the messages inside oldest..latest (exclusive unless
// inclusive is set), as conversations.history and .replies do.
func window(r *http.Request, ms []Message) ([]Message, bool) {
	lo, hi := int64(-1), int64(1)<<62
	if v := r.FormValue("oldest"); v != "" && v != "0" {
		t, ok := parseTS(v)
		if !ok {
			return nil, false
		}
		lo = t
	}
	if v := r.FormValue("latest"); v != "" && v != "0" {
		t, ok := parseTS(v)
		if !ok {
			return nil, false
		}
		hi = t
	}
	incl := r.FormValue("inclusive") == "true" || r.FormValue("inclusive") == "1"
	var out []Message
	for _, m := range ms {
		t, _ := parseTS(m.TS)
		if (t > lo || incl && t == lo) && (t < hi || incl && t == hi) {
			out = append(out, m)
		}
	}
	return out, true
}

// page cuts one page of ms at the request's cursor and limit (Slack's
// default is 100, its maximum 999) and returns the next cursor.
func page(r *http.Request, ms []Message) ([]Message, string, bool) {
	limit := 100
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, "", false
		}
		if n > 0 {
			limit = min(n, 999)
		}
	}
	off := 0
	if c := r.FormValue("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return nil, "", false
		}
		n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || n < 0 || n > len(ms) {
			return nil, "", false
		}
		off = n
	}
	end := min(off+limit, len(ms))
	next := ""
	if end < len(ms) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	return ms[off:end], next, true
}

func (s *Server) answerPage(w http.ResponseWriter, r *http.Request, ms []Message, replyCount func(Message) int) {
	ms, ok := window(r, ms)
	if !ok {
		fail(w, "invalid_ts_oldest")
		return
	}
	ms, next, ok := page(r, ms)
	if !ok {
		fail(w, "invalid_cursor")
		return
	}
	md := includeMetadata(r)
	out := make([]wireMessage, len(ms))
	for i, m := range ms {
		out[i] = wire(m, md)
		if replyCount != nil {
			out[i].ReplyCount = replyCount(m)
		}
	}
	reply(w, map[string]any{"ok": true, "messages": out, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authed(r) {
		fail(w, "invalid_auth")
		return
	}
	msgs, ok := s.channels[r.FormValue("channel")]
	if !ok {
		fail(w, "channel_not_found")
		return
	}
	msgs = append([]Message(nil), msgs...)
	sort.SliceStable(msgs, func(i, j int) bool { // newest first
		a, _ := parseTS(msgs[i].TS)
		b, _ := parseTS(msgs[j].TS)
		return a > b
	})
	s.answerPage(w, r, msgs, func(m Message) int { return len(s.threads[m.TS]) })
}

func (s *Server) replies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authed(r) {
		fail(w, "invalid_auth")
		return
	}
	ch, ts := r.FormValue("channel"), r.FormValue("ts")
	if _, ok := s.channels[ch]; !ok {
		fail(w, "channel_not_found")
		return
	}
	var parent []Message
	for _, m := range s.channels[ch] {
		if m.TS == ts {
			parent = append(parent, m)
		}
	}
	if len(parent) == 0 {
		fail(w, "thread_not_found")
		return
	}
	// The parent first, then its replies, oldest first.
	all := append(parent, s.threads[ts]...)
	s.answerPage(w, r, all, nil)
}

// openConversation opens (or resumes) the direct message "D"+user; a user
// id starting with "UGONE" is not found.
func (s *Server) openConversation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authed(r) {
		fail(w, "invalid_auth")
		return
	}
	users := r.FormValue("users")
	if users == "" || strings.Contains(users, ",") {
		fail(w, "users_list_not_supplied")
		return
	}
	if strings.HasPrefix(users, "UGONE") {
		fail(w, "user_not_found")
		return
	}
	id := "D" + users
	if _, ok := s.channels[id]; !ok {
		s.channels[id] = nil
	}
	s.opens++
	reply(w, map[string]any{"ok": true, "channel": map[string]any{"id": id, "is_im": true, "user": users}})
}

func (s *Server) getUploadURL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authed(r) {
		fail(w, "invalid_auth")
		return
	}
	if n, err := strconv.Atoi(r.FormValue("length")); r.FormValue("filename") == "" || err != nil || n <= 0 {
		fail(w, "invalid_arguments")
		return
	}
	s.seq++
	id := fmt.Sprintf("F%04d", s.seq)
	reply(w, map[string]any{"ok": true, "upload_url": s.URL() + "upload/" + id, "file_id": id})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, _ := io.Copy(io.Discard, file)
	s.mu.Lock()
	s.bytesIn[id] = int(n)
	s.mu.Unlock()
	w.Write([]byte("OK - " + strconv.FormatInt(n, 10)))
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.authed(r) {
		fail(w, "invalid_auth")
		return
	}
	var files []File
	if err := json.Unmarshal([]byte(r.FormValue("files")), &files); err != nil || len(files) != 1 {
		fail(w, "invalid_arguments")
		return
	}
	f := files[0]
	if s.bytesIn[f.ID] == 0 {
		fail(w, "file_not_found")
		return
	}
	ch, thread := r.FormValue("channel_id"), r.FormValue("thread_ts")
	if _, ok := s.channels[ch]; !ok {
		fail(w, "channel_not_found")
		return
	}
	if thread != "" && !s.hasTopLevel(ch, thread) {
		fail(w, "thread_not_found")
		return
	}
	f.Name, f.Size = f.Title, s.bytesIn[f.ID]
	m := Message{TS: s.mintTS(), ThreadTS: thread, Files: []File{f}, Channel: ch, Token: tokenOf(r)}
	if thread != "" {
		s.threads[thread] = append(s.threads[thread], m)
	} else {
		s.channels[ch] = append(s.channels[ch], m)
	}
	s.uploads++
	reply(w, map[string]any{"ok": true, "files": []map[string]string{{"id": f.ID, "title": f.Title}}})
}
