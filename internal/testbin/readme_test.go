package testbin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeQuickstart keeps the README's quickstart identical to the root
// package's Example test, code and output, so that the README shows code
// that compiles and prints what it says. (It lives here because this is the
// repository's test-support package; the check reads both files as text.)
func TestReadmeQuickstart(t *testing.T) {
	root := filepath.Join("..", "..")
	readme := readFile(t, filepath.Join(root, "README.md"))
	example := readFile(t, filepath.Join(root, "example_test.go"))

	_, section, ok := strings.Cut(readme, "\n## Quickstart\n")
	if !ok {
		t.Fatal("README.md has no ## Quickstart section")
	}
	code, rest, ok := fenced(section, "```go\n")
	if !ok {
		t.Fatal("README.md's quickstart has no ```go block")
	}
	output, _, ok := fenced(rest, "```\n")
	if !ok {
		t.Fatal("README.md's quickstart has no output block after the code")
	}

	_, body, ok := strings.Cut(example, "\nfunc Example() {\n")
	if !ok {
		t.Fatal("example_test.go has no func Example()")
	}
	body, _, ok = strings.Cut(body, "\n}\n")
	if !ok {
		t.Fatal("func Example() in example_test.go does not end")
	}
	exCode, exOutput, ok := strings.Cut(body, "\t// Output:\n")
	if !ok {
		t.Fatal("func Example() has no // Output: comment")
	}

	if want := untab(exCode, "\t"); code != want {
		t.Errorf("README.md quickstart code differs from func Example() in example_test.go.\nREADME:\n%s\nExample:\n%s", code, want)
	}
	if want := untab(exOutput, "\t// "); output != want {
		t.Errorf("README.md quickstart output differs from func Example()'s // Output:.\nREADME:\n%s\nExample:\n%s", output, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// fenced returns the text of the first fenced block that opens with open,
// and what follows the block.
func fenced(s, open string) (block, rest string, ok bool) {
	_, s, ok = strings.Cut(s, open)
	if !ok {
		return "", "", false
	}
	block, rest, ok = strings.Cut(s, "```\n")
	return block, rest, ok
}

// untab removes prefix from each line of s and trailing blank lines; lines
// that are only whitespace become empty (gofmt writes empty lines in a
// function body as empty).
func untab(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" || strings.TrimSpace(l) == "//" {
			lines[i] = ""
			continue
		}
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "\n") + "\n"
}
