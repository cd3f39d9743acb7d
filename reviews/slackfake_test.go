package reviews

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack/slacktest"
)

const goodToken = "xoxb-test-token"

// fakeSlack is slack-go's slacktest server with what it lacks: a
// chat.postMessage that keeps channel history (with metadata and threads),
// conversations.history and .replies, and the external file upload flow.
// Knobs make the next calls fail.
type fakeSlack struct {
	srv *slacktest.Server
	t   testing.TB

	mu       sync.Mutex
	channels map[string][]fakeMsg // channel → top-level messages, oldest first
	threads  map[string][]fakeMsg // parent ts → replies
	seq      int
	posts    int // messages accepted
	uploads  int // files completed
	opens    int // conversations.open calls
	bytesIn  map[string]int
	// rateLimit answers the next N postMessage calls with 429 Retry-After 1.
	rateLimit int
	// failPosts answers the next N postMessage calls with HTTP 500.
	failPosts int
	// postError answers every postMessage with ok:false and this error.
	postError string
}

type fakeMsg struct {
	TS       string          `json:"ts"`
	Text     string          `json:"text"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Files    []fakeFile      `json:"files,omitempty"`
}

type fakeFile struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
}

func newFakeSlack(t testing.TB, channels ...string) *fakeSlack {
	f := &fakeSlack{t: t, channels: map[string][]fakeMsg{}, threads: map[string][]fakeMsg{}, bytesIn: map[string]int{}}
	for _, c := range channels {
		f.channels[c] = nil
	}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/conversations.history", f.history)
		c.Handle("/conversations.replies", f.replies)
		c.Handle("/conversations.open", f.openConversation)
		c.Handle("/files.getUploadURLExternal", f.getUploadURL)
		c.Handle("/upload/", f.upload)
		c.Handle("/files.completeUploadExternal", f.completeUpload)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) url() string { return f.srv.GetAPIURL() }

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) authed(r *http.Request) bool {
	return r.FormValue("token") == goodToken || r.Header.Get("Authorization") == "Bearer "+goodToken
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.rateLimit > 0:
		f.rateLimit--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case f.failPosts > 0:
		f.failPosts--
		w.WriteHeader(http.StatusInternalServerError)
		return
	case !f.authed(r):
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	case f.postError != "":
		reply(w, map[string]any{"ok": false, "error": f.postError})
		return
	}
	ch := r.FormValue("channel")
	if _, ok := f.channels[ch]; !ok {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	f.seq++
	m := fakeMsg{TS: fmt.Sprintf("1700000000.%06d", f.seq), Text: r.FormValue("text"), ThreadTS: r.FormValue("thread_ts")}
	if b := r.FormValue("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if md := r.FormValue("metadata"); md != "" {
		m.Metadata = json.RawMessage(md)
	}
	if m.ThreadTS != "" {
		f.threads[m.ThreadTS] = append(f.threads[m.ThreadTS], m)
	} else {
		f.channels[ch] = append(f.channels[ch], m)
	}
	f.posts++
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": m})
}

func withoutMetadata(ms []fakeMsg, keep bool) []fakeMsg {
	out := make([]fakeMsg, len(ms))
	copy(out, ms)
	if !keep {
		for i := range out {
			out[i].Metadata = nil
		}
	}
	return out
}

func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.FormValue("channel")
	msgs, ok := f.channels[ch]
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	out := withoutMetadata(msgs, r.FormValue("include_all_metadata") == "true" || r.FormValue("include_all_metadata") == "1")
	sort.Slice(out, func(i, j int) bool { return out[i].TS > out[j].TS }) // newest first
	reply(w, map[string]any{"ok": true, "messages": out, "has_more": false})
}

func (f *fakeSlack) replies(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := r.FormValue("ts")
	var parent []fakeMsg
	for _, ms := range f.channels {
		for _, m := range ms {
			if m.TS == ts {
				parent = append(parent, m)
			}
		}
	}
	if len(parent) == 0 {
		reply(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	all := append(parent, f.threads[ts]...)
	reply(w, map[string]any{"ok": true, "messages": withoutMetadata(all, r.FormValue("include_all_metadata") == "true" || r.FormValue("include_all_metadata") == "1"), "has_more": false})
}

// openConversation opens (or resumes) the direct message "D"+user; a user
// id starting with "UGONE" is not found.
func (f *fakeSlack) openConversation(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authed(r) {
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	users := r.FormValue("users")
	if users == "" || strings.Contains(users, ",") {
		reply(w, map[string]any{"ok": false, "error": "users_list_not_supplied"})
		return
	}
	if strings.HasPrefix(users, "UGONE") {
		reply(w, map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	id := "D" + users
	if _, ok := f.channels[id]; !ok {
		f.channels[id] = nil
	}
	f.opens++
	reply(w, map[string]any{"ok": true, "channel": map[string]any{"id": id, "is_im": true, "user": users}})
}

func (f *fakeSlack) getUploadURL(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authed(r) {
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	f.seq++
	id := fmt.Sprintf("F%04d", f.seq)
	reply(w, map[string]any{"ok": true, "upload_url": f.url() + "upload/" + id, "file_id": id})
}

func (f *fakeSlack) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	n, _ := io.Copy(io.Discard, file)
	f.mu.Lock()
	f.bytesIn[id] = int(n)
	f.mu.Unlock()
	w.Write([]byte("OK"))
}

func (f *fakeSlack) completeUpload(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	var files []fakeFile
	if err := json.Unmarshal([]byte(r.FormValue("files")), &files); err != nil || len(files) != 1 {
		reply(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	if f.bytesIn[files[0].ID] == 0 {
		reply(w, map[string]any{"ok": false, "error": "file_not_found"})
		return
	}
	ch, thread := r.FormValue("channel_id"), r.FormValue("thread_ts")
	if _, ok := f.channels[ch]; !ok {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	files[0].Name = files[0].Title
	f.seq++
	m := fakeMsg{TS: fmt.Sprintf("1700000000.%06d", f.seq), ThreadTS: thread, Files: files}
	if thread != "" {
		f.threads[thread] = append(f.threads[thread], m)
	} else {
		f.channels[ch] = append(f.channels[ch], m)
	}
	f.uploads++
	reply(w, map[string]any{"ok": true, "files": []map[string]string{{"id": files[0].ID, "title": files[0].Title}}})
}

func (f *fakeSlack) counts() (posts, uploads int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.uploads
}

func (f *fakeSlack) topLevel(ch string) []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMsg(nil), f.channels[ch]...)
}

func (f *fakeSlack) thread(ts string) []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMsg(nil), f.threads[ts]...)
}
