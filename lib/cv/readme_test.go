package cv_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeShowsExample keeps the README's "Using it from Go" code the
// same text as Example_study, which go test compiles and runs: the README's
// snippet then always compiles.
func TestReadmeShowsExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const start = "func Example_study() {\n"
	s := string(src)
	i := strings.Index(s, start)
	j := strings.Index(s[i:], "\n}\n")
	if i < 0 || j < 0 {
		t.Fatal("example_test.go: no func Example_study")
	}
	want := s[i : i+j+3] // through the closing brace's newline

	r := string(readme)
	k := strings.Index(r, "## Using it from Go")
	if k < 0 {
		t.Fatal(`README.md: no "## Using it from Go" section`)
	}
	r = r[k:]
	a := strings.Index(r, "```go\n")
	if a < 0 {
		t.Fatal(`README.md: no go code block in "Using it from Go"`)
	}
	r = r[a+len("```go\n"):]
	b := strings.Index(r, "```\n")
	if b < 0 {
		t.Fatal("README.md: unterminated go code block")
	}
	got := r[:b]
	if got == want {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for n := 0; n < max(len(gl), len(wl)); n++ {
		var g, w string
		if n < len(gl) {
			g = gl[n]
		}
		if n < len(wl) {
			w = wl[n]
		}
		if g != w {
			t.Fatalf("README.md's Go snippet differs from Example_study in lib/cv/example_test.go at its line %d:\nREADME:  %q\nexample: %q\n(copy the function into the README)", n+1, g, w)
		}
	}
}
