package push

import (
	"encoding/base64"
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/promgo/prom"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		name, gateway, job string
		grouping           prom.Labels
		want               string
	}{
		{"job only", "http://pgw:9091", "batch", nil,
			"http://pgw:9091/metrics/job/batch"},
		{"labels in name order", "http://pgw:9091", "batch", prom.Labels{"zone": "eu", "instance": "db1", "a": "1"},
			"http://pgw:9091/metrics/job/batch/a/1/instance/db1/zone/eu"},
		{"prefix kept", "https://proxy.example/pgw", "batch", prom.Labels{"instance": "db1"},
			"https://proxy.example/pgw/metrics/job/batch/instance/db1"},
		{"prefix with trailing slash", "http://proxy/pgw/", "batch", nil,
			"http://proxy/pgw/metrics/job/batch"},
		{"escaped prefix kept", "http://proxy/a%20b/", "batch", nil,
			"http://proxy/a%20b/metrics/job/batch"},
		{"query kept, fragment dropped", "http://pgw:9091/?token=x#frag", "batch", nil,
			"http://pgw:9091/metrics/job/batch?token=x"},
		{"space is %20", "http://pgw", "my job", prom.Labels{"path": "a b"},
			"http://pgw/metrics/job/my%20job/path/a%20b"},
		{"plus, percent, query and fragment characters", "http://pgw", "j", prom.Labels{"v": "a+b%c?d#e"},
			"http://pgw/metrics/job/j/v/a+b%25c%3Fd%23e"},
		{"slash in value", "http://pgw", "j", prom.Labels{"path": "/var/tmp"},
			"http://pgw/metrics/job/j/path@base64/L3Zhci90bXA="},
		{"slash in job", "http://pgw", "a/b", nil,
			"http://pgw/metrics/job@base64/YS9i"},
		{"empty value", "http://pgw", "example", prom.Labels{"first_label": "", "second_label": "foobar"},
			"http://pgw/metrics/job/example/first_label@base64/=/second_label/foobar"},
		{"dot segments", "http://pgw", ".", prom.Labels{"a": "..", "b": "..."},
			"http://pgw/metrics/job@base64/Lg==/a@base64/Li4=/b/..."},
		{"non-ASCII percent-encoded", "http://pgw", "titan", prom.Labels{"name": "Προμηθεύς"},
			"http://pgw/metrics/job/titan/name/%CE%A0%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CF%8D%CF%82"},
		{"URL-safe alphabet", "http://pgw", "j", prom.Labels{"v": "/??>"},
			"http://pgw/metrics/job/j/v@base64/Lz8_Pg=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.gateway, tc.job, WithGrouping(tc.grouping))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.URL(); got != tc.want {
				t.Errorf("URL() = %s\nwant    %s", got, tc.want)
			}
			checkRoundTrip(t, p.URL(), tc.job, tc.grouping)
		})
	}
}

// TestURLWithPath: WithPath replaces the gateway URL's path, as it is.
func TestURLWithPath(t *testing.T) {
	for _, tc := range []struct{ gateway, path, want string }{
		{"http://vm:8428", "/api/v1/import/prometheus", "http://vm:8428/api/v1/import/prometheus"},
		{"http://proxy/pgw/?extra_label=job%3Dbackup#frag", "/api/v1/import/prometheus",
			"http://proxy/api/v1/import/prometheus?extra_label=job%3Dbackup"},
		{"https://u:secret@gw", "/metrics/job/a%2Fb/x@base64/=", "https://u:xxxxx@gw/metrics/job/a%2Fb/x@base64/="},
		{"http://gw", "/", "http://gw/"},
	} {
		p, err := New(tc.gateway, "", WithPath(tc.path))
		if err != nil {
			t.Fatalf("New(%q, WithPath(%q)): %v", tc.gateway, tc.path, err)
		}
		if got := p.URL(); got != tc.want {
			t.Errorf("New(%q, WithPath(%q)).URL() = %s, want %s", tc.gateway, tc.path, got, tc.want)
		}
	}
}

func TestURLRedactsPassword(t *testing.T) {
	p, err := New("http://user:secret@pgw:9091", "j")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.URL(), "http://user:xxxxx@pgw:9091/metrics/job/j"; got != want {
		t.Errorf("URL() = %s, want %s", got, want)
	}
	if !strings.Contains(p.url, "secret") {
		t.Errorf("the request URL lost the password: %s", p.url)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name, gateway, job string
		opts               []Option
		sentinel           error
		want               string // in the message
	}{
		{"no scheme", "pgw:9091", "j", nil, nil, `"pgw:9091" must be http:// or https://`},
		{"other scheme", "ftp://pgw", "j", nil, nil, "must be http:// or https://"},
		{"no host", "http:///x", "j", nil, nil, "name a host"},
		{"unparsable", "http://pgw:port", "j", nil, nil, "gateway URL"},
		{"ends in /metrics", "http://pgw:9091/metrics", "j", nil, nil, `"http://pgw:9091/metrics": give the gateway's base URL`},
		{"ends in /metrics/", "http://pgw:9091/pgw/metrics/", "j", nil, nil, "base URL"},
		{"a group's URL", "http://pgw:9091/metrics/job/x", "j", nil, nil, "base URL"},
		{"ends in /metrics/job", "http://pgw:9091/metrics/job", "j", nil, nil, "base URL"},
		{"ends in /metrics/job/", "http://pgw:9091/metrics/job/", "j", nil, nil, "base URL"},
		{"ends in /metrics//", "http://pgw:9091/metrics//", "j", nil, nil, "base URL"},
		{"prefix, then /metrics/job/", "http://proxy/pgw/metrics/job/", "j", nil, nil, "base URL"},
		{"empty job", "http://pgw", "", nil, ErrInvalidGrouping, "job name is empty"},
		{"job not UTF-8", "http://pgw", "a\xff", nil, ErrInvalidGrouping, `"a\xff" is not valid UTF-8`},
		{"grouping job", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"job": "x"})}, ErrInvalidGrouping, "cannot hold the label job"},
		{"grouping __", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"__name__": "x"})}, ErrInvalidGrouping, `"__name__": the prefix __ is reserved`},
		{"grouping digit", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"1a": "x"})}, ErrInvalidGrouping, `"1a" must match`},
		{"grouping dash", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"a-b": "x"})}, ErrInvalidGrouping, `"a-b" must match`},
		{"grouping empty name", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"": "x"})}, ErrInvalidGrouping, `"" must match`},
		{"grouping value not UTF-8", "http://pgw", "j", []Option{WithGrouping(prom.Labels{"a": "\xc3"})}, ErrInvalidGrouping, `value "\xc3" of grouping label "a"`},
		{"OpenMetrics", "http://pgw", "j", []Option{WithFormat(prom.FormatOpenMetrics)}, nil, "reads only protobuf and text"},
		{"header name", "http://pgw", "j", []Option{WithHeader("X Bad", "v")}, nil, `header name "X Bad"`},
		{"header value", "http://pgw", "j", []Option{WithHeader("X-Token", "a\r\nInjected: 1")}, nil, "control character"},
		{"header Content-Type", "http://pgw", "j", []Option{WithHeader("Content-Type", "application/json")}, nil, "header Content-Type is the Pusher's to set"},
		{"header Content-Encoding", "http://pgw", "j", []Option{WithHeader("content-encoding", "gzip")}, nil, "header Content-Encoding is the Pusher's to set"},
		{"header Content-Length", "http://pgw", "j", []Option{WithHeader("Content-Length", "0")}, nil, "Pusher's to set"},
		{"header Host", "http://pgw", "j", []Option{WithHeader("host", "other")}, nil, "header Host concerns the connection"},
		{"header Transfer-Encoding", "http://pgw", "j", []Option{WithHeader("Transfer-Encoding", "chunked")}, nil, "header Transfer-Encoding concerns the connection"},
		{"basic auth colon", "http://pgw", "j", []Option{WithBasicAuth("a:b", "c")}, nil, `username "a:b" holds a colon`},
		{"relative path", "http://pgw", "", []Option{WithPath("api/v1/import")}, nil, `WithPath("api/v1/import"): the path must begin with /`},
		{"empty path", "http://pgw", "", []Option{WithPath("")}, nil, "must begin with /"},
		{"path with a query", "http://pgw", "", []Option{WithPath("/import?x=1")}, nil, "no query"},
		{"bad escape in path", "http://pgw", "", []Option{WithPath("/a%zz")}, nil, `WithPath("/a%zz")`},
		{"path and a job", "http://pgw", "j", []Option{WithPath("/import")}, nil, `job "j": WithPath sends no job`},
		{"path and grouping", "http://pgw", "", []Option{WithPath("/import"), WithGrouping(prom.Labels{"instance": "a"})}, ErrInvalidGrouping, "WithPath sends no grouping key"},
		{"path and OpenMetrics", "http://pgw", "", []Option{WithPath("/import"), WithFormat(prom.FormatOpenMetrics)}, nil, "reads only protobuf and text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.gateway, tc.job, tc.opts...)
			if err == nil {
				t.Fatalf("New succeeded with URL %s", p.URL())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "push: ") {
				t.Errorf("error %q does not begin with push:", err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q is not %v", err, tc.sentinel)
			}
		})
	}
}

// checkRoundTrip parses rawURL as a router would and checks that its path,
// below /metrics/, decodes back to job and grouping: each value either
// percent-decoded or, after a name@base64, base64-decoded. The decoded path
// must also be clean, or the gateway's router would redirect it.
func checkRoundTrip(t *testing.T, rawURL, job string, grouping prom.Labels) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", rawURL, err)
	}
	if path.Clean(u.Path) != u.Path {
		t.Errorf("path %q is not clean: a router would redirect it", u.Path)
	}
	_, escaped, ok := strings.Cut(u.EscapedPath(), "/metrics/")
	if !ok {
		t.Fatalf("no /metrics/ in %q", rawURL)
	}
	segs := strings.Split(escaped, "/")
	if len(segs)%2 != 0 {
		t.Fatalf("odd number of segments in %q", escaped)
	}
	got := map[string]string{}
	for i := 0; i < len(segs); i += 2 {
		name, value := segs[i], segs[i+1]
		if base, ok := strings.CutSuffix(name, base64Suffix); ok {
			b, err := base64.URLEncoding.DecodeString(value)
			if err != nil && value != "=" {
				t.Fatalf("segment %s/%s: %v", name, value, err)
			}
			name, value = base, string(b)
		} else {
			if value, err = url.PathUnescape(value); err != nil {
				t.Fatalf("segment %s/%s: %v", name, segs[i+1], err)
			}
		}
		if _, dup := got[name]; dup {
			t.Fatalf("label %q twice in %q", name, escaped)
		}
		got[name] = value
	}
	if got["job"] != job {
		t.Errorf("job decodes to %q, want %q", got["job"], job)
	}
	delete(got, "job")
	if len(got) != len(grouping) {
		t.Errorf("grouping decodes to %q, want %q", got, grouping)
	}
	for name, want := range grouping {
		if got[name] != want {
			t.Errorf("label %s decodes to %q, want %q", name, got[name], want)
		}
	}
}

// FuzzURL builds group URLs from arbitrary job and label values and checks
// that each parses, stays clean, and decodes back to its inputs. Values
// that are not valid UTF-8 must be refused by New, and still round-trip
// through the path builder itself.
func FuzzURL(f *testing.F) {
	for _, seed := range [][3]string{
		{"batch", "db1", "eu"},
		{"a/b", "", " "},
		{".", "..", "..."},
		{"Προμηθεύς", "100%", "a+b?c#d"},
		{"x\xff", "\x00\n", "%2F"},
		{"//", "=", "@base64"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	gw, _ := url.Parse("http://pgw:9091/prefix")
	f.Fuzz(func(t *testing.T, job, v1, v2 string) {
		grouping := prom.Labels{"a": v1, "instance": v2}
		u, err := groupURL(gw, job, sortedNames(grouping), grouping)
		if err != nil {
			t.Fatalf("groupURL(%q, %q): %v", job, grouping, err)
		}
		if !strings.HasPrefix(u.EscapedPath(), "/prefix/metrics/job") {
			t.Fatalf("path %q lost the prefix", u.EscapedPath())
		}
		checkRoundTrip(t, u.String(), job, grouping)

		p, err := New(gw.String(), job, WithGrouping(grouping))
		valid := job != "" && utf8.ValidString(job) && utf8.ValidString(v1) && utf8.ValidString(v2)
		switch {
		case valid && err != nil:
			t.Fatalf("New refused valid input: %v", err)
		case !valid && err == nil:
			t.Fatalf("New accepted job %q grouping %q", job, grouping)
		case !valid && !errors.Is(err, ErrInvalidGrouping):
			t.Fatalf("error %v is not ErrInvalidGrouping", err)
		case valid && p.URL() != u.String():
			t.Fatalf("New's URL %s differs from %s", p.URL(), u)
		}
	})
}
