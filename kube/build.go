package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/election-harness/harness/db"
)

// kubernetesModule is the module whose cmd/kube-apiserver is built.
const kubernetesModule = "k8s.io/kubernetes"

// DefaultVersion is the kube-apiserver built when none is named: the
// newest release whose modules build with this machine's Go.
const DefaultVersion = "v1.36.3"

// apiserverMain is kube-apiserver's own main.go.
const apiserverMain = `package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
`

// Build returns kube-apiserver at version (a Kubernetes release,
// "v1.36.3"), built from the published modules and cached in cacheDir.
func Build(ctx context.Context, version, cacheDir string, log io.Writer) (string, error) {
	if !semver.IsValid(version) || semver.Major(version) != "v1" {
		return "", fmt.Errorf("kube-apiserver version %q: want a Kubernetes release such as %s", version, DefaultVersion)
	}
	b := db.GoModuleBuild{Name: "kube-apiserver", Module: kubernetesModule, MainGo: apiserverMain, Version: version,
		BeforeGet: func(ctx context.Context, src string, goCmd func(args ...string) (string, error)) error {
			return requireStaging(ctx, version, src, goCmd)
		}}
	return b.Build(ctx, cacheDir, log)
}

// requireStaging makes k8s.io/kubernetes requirable. Its go.mod requires
// its staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and
// replaces them with its own directories, which a module requiring it
// does not inherit. The wrapper replaces each with the release published
// beside it: v1.M.P's staging modules are v0.M.P.
func requireStaging(ctx context.Context, version, src string, goCmd func(args ...string) (string, error)) error {
	out, err := goCmd("mod", "download", "-json", kubernetesModule+"@"+version)
	if err != nil {
		return err
	}
	var dl struct{ GoMod, Version string }
	if err := json.Unmarshal([]byte(out), &dl); err != nil {
		return fmt.Errorf("reading go mod download's answer: %w", err)
	}
	data, err := os.ReadFile(dl.GoMod)
	if err != nil {
		return fmt.Errorf("reading %s's go.mod: %w", kubernetesModule, err)
	}
	kmod, err := modfile.Parse(dl.GoMod, data, nil)
	if err != nil {
		return fmt.Errorf("parsing %s's go.mod: %w", kubernetesModule, err)
	}
	staging := "v0" + strings.TrimPrefix(dl.Version, "v1")
	// Parse, not ParseLax: ParseLax skips replace directives.
	var replaces strings.Builder
	replaces.WriteString("\nreplace (\n")
	for _, r := range kmod.Replace {
		if strings.HasPrefix(r.New.Path, "./staging/") {
			fmt.Fprintf(&replaces, "\t%s => %s %s\n", r.Old.Path, r.Old.Path, staging)
		}
	}
	replaces.WriteString(")\n")
	if !strings.Contains(replaces.String(), "k8s.io/client-go") {
		return fmt.Errorf("%s %s's go.mod replaces no staging module with its own directory", kubernetesModule, version)
	}
	f, err := os.OpenFile(filepath.Join(src, "go.mod"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(replaces.String())
	return err
}
