package consul

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/election-harness/harness/db"
)

const consulModule = "github.com/hashicorp/consul"

// consulMain is Consul's own main.go: its CLI with every registered
// command (agent, members, kv, ...).
const consulMain = `package main

import (
	"fmt"
	"io"
	"log"
	"os"

	mcli "github.com/mitchellh/cli"

	"github.com/hashicorp/consul/command"
	"github.com/hashicorp/consul/command/cli"
	"github.com/hashicorp/consul/command/version"
)

func main() {
	log.SetOutput(io.Discard)
	ui := &cli.BasicUI{BasicUi: mcli.BasicUi{Writer: os.Stdout, ErrorWriter: os.Stderr}}
	cmds := command.RegisteredCommands(ui)
	var names []string
	for c := range cmds {
		names = append(names, c)
	}
	c := &mcli.CLI{
		Args:        os.Args[1:],
		Commands:    cmds,
		Name:        "consul",
		HelpFunc:    mcli.FilteredHelpFunc(names, mcli.BasicHelpFunc("consul")),
		HelpWriter:  os.Stdout,
		ErrorWriter: os.Stderr,
	}
	if c.IsVersion() {
		os.Exit(version.New(ui).Run(nil))
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error executing CLI: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}
`

// consulBuild is the wrapper build of Consul at version. Consul's go.mod
// replaces its own submodules with local directories, and has excludes,
// which a module requiring Consul does not inherit. So the wrapper copies
// the excludes. It also pins every dependency that minimal version
// selection would lift above the version Consul's go.mod names. A lifted
// armon/go-metrics, for one, does not compile with Consul's agent. Some of
// Consul's dependencies are not in the checksum database.
func consulBuild(version string) db.GoModuleBuild {
	return db.GoModuleBuild{
		Name: "consul", Module: consulModule, MainGo: consulMain, Version: version,
		ExtraGoMod: "\nexclude (\n\tgithub.com/hashicorp/go-msgpack v1.1.5\n\tgithub.com/hashicorp/go-msgpack v1.1.6\n)\n",
		Env:        []string{"GONOSUMDB=github.com/hashicorp"},
		Pin:        pinToConsulGoMod,
	}
}

// pinToConsulGoMod rewrites the wrapper's go.mod from scratch: the
// require of Consul, Consul's excludes, and a replace for each module
// the build graph holds at a version above Consul's own require. Written
// from scratch because the requires `go get` added would otherwise make
// some packages ambiguous imports (go-discover's providers).
func pinToConsulGoMod(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error {
	modPath, err := goCmd("list", "-m", "-f", "{{.GoMod}}", consulModule)
	if err != nil {
		return err
	}
	modPath = strings.TrimSpace(modPath)
	data, err := os.ReadFile(modPath)
	if err != nil {
		return fmt.Errorf("reading Consul's go.mod: %w", err)
	}
	consulMod, err := modfile.ParseLax(modPath, data, nil)
	if err != nil {
		return fmt.Errorf("parsing Consul's go.mod: %w", err)
	}
	listing, err := goCmd("list", "-m", "-f", "{{.Path}} {{.Version}}", "all")
	if err != nil {
		return err
	}
	selected := map[string]string{}
	for _, line := range strings.Split(listing, "\n") {
		if path, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			selected[path] = v
		}
	}
	var pins []string
	for _, r := range consulMod.Require {
		if r.Mod.Path == consulModule {
			continue
		}
		if v, ok := selected[r.Mod.Path]; ok && semver.Compare(v, r.Mod.Version) > 0 {
			pins = append(pins, fmt.Sprintf("\t%s => %s %s\n", r.Mod.Path, r.Mod.Path, r.Mod.Version))
		}
	}
	own := selected[consulModule]
	if own == "" {
		return fmt.Errorf("%s is not in the build graph", consulModule)
	}
	sort.Strings(pins)
	var b strings.Builder
	fmt.Fprintf(&b, "module consulwrap\n\ngo 1.24\n\nrequire %s %s\n\nexclude (\n", consulModule, own)
	for _, x := range consulMod.Exclude {
		fmt.Fprintf(&b, "\t%s %s\n", x.Mod.Path, x.Mod.Version)
	}
	b.WriteString(")\n")
	if len(pins) > 0 {
		b.WriteString("\nreplace (\n" + strings.Join(pins, "") + ")\n")
	}
	return os.WriteFile(filepath.Join(src, "go.mod"), []byte(b.String()), 0o644)
}

var _ db.Releases = DB{}

// Releases are Consul's module's published versions.
func (DB) Releases(ctx context.Context, cacheDir string) ([]string, error) {
	return db.ModuleVersions(ctx, consulModule, cacheDir)
}
