package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceLines(t *testing.T) {
	src := "func f() bool {\n\tif a() {\n\t\tlog()\n\t\treturn true\n\t}\n\treturn b()\n}\n"
	for _, tc := range []struct {
		name    string
		p       SourcePatch
		want    string
		wantErr string
	}{
		{"removes a block", SourcePatch{Old: []string{"if a() {", "log()", "return true", "}"}},
			"func f() bool {\n\treturn b()\n}\n", ""},
		{"replaces, indented as the first line", SourcePatch{Old: []string{"return b()"}, New: []string{"x := b()", "return x"}},
			"func f() bool {\n\tif a() {\n\t\tlog()\n\t\treturn true\n\t}\n\tx := b()\n\treturn x\n}\n", ""},
		{"lines not there", SourcePatch{Old: []string{"if c() {"}}, "", "not there"},
		{"lines twice", SourcePatch{Old: []string{"}"}}, "", "more than once"},
		{"nothing to replace", SourcePatch{}, "", "no lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceLines(src, tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// A patch that does not apply leaves the file as it was and names the
// patch; LookupPatches names the patches it knows.
func TestApplySourcePatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.go")
	os.WriteFile(path, []byte("x := 1\n"), 0o644)
	bad := SourcePatch{Name: "bad", File: "a.go", Old: []string{"y := 2"}}
	if err := ApplySourcePatches(dir, []SourcePatch{bad}); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("err %v, want one naming the patch", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "x := 1\n" {
		t.Fatalf("file changed to %q", b)
	}
	good := SourcePatch{Name: "good", File: "a.go", Old: []string{"x := 1"}, New: []string{"x := 2"}}
	if err := ApplySourcePatches(dir, []SourcePatch{good}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "x := 2\n" {
		t.Fatalf("file is %q", b)
	}
	if _, err := LookupPatches([]SourcePatch{good}, []string{"nope"}); err == nil || !strings.Contains(err.Error(), "good") {
		t.Fatalf("err %v, want one listing the known patches", err)
	}
	if good.Tag() == bad.Tag() || !strings.HasPrefix(good.Tag(), "good.") {
		t.Fatalf("tags %q %q", good.Tag(), bad.Tag())
	}
}
