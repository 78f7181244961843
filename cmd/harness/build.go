package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/run"
)

func buildCmd() *cobra.Command {
	cfg := run.NewConfig()
	var kubeVersion string
	c := &cobra.Command{
		Use:   "build --db D --version V",
		Short: "Prebuild the database binary and the node image (cached by version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := registry.Lookup(cfg.DB)
			if err != nil {
				return setupError("%v", err)
			}
			if cfg.Version == "" && cfg.FromImage == "" {
				cfg.Version = d.DefaultVersion()
			}
			self, err := run.StaticSelf()
			if err != nil {
				return setupError("%v", err)
			}
			backend, err := newBackend(cmd)
			if err != nil {
				return setupError("%v", err)
			}
			start := time.Now()
			src := run.Source{Version: cfg.Version, Binary: cfg.Binary, Image: cfg.FromImage, Failpoints: cfg.Failpoints, Patches: cfg.Patches}
			if kubeVersion != "" {
				if _, ok := d.(db.KubeStore); !ok {
					return setupError("--kube-apiserver: kube-apiserver cannot store in %s", d.Name())
				}
				if src.KubeAPIServer, err = kube.Build(cmd.Context(), kubeVersion, cfg.CacheDir, os.Stderr); err != nil {
					return setupError("building kube-apiserver %s: %v", kubeVersion, err)
				}
				fmt.Printf("kube-apiserver %s: binary %s\n", kubeVersion, src.KubeAPIServer)
			}
			image, err := run.PrepareImage(cmd.Context(), backend, d, src, cfg.CacheDir, self, os.Stderr)
			if err != nil {
				return setupError("%v", err)
			}
			from := "binary " + image.DBBinary
			if src.Image != "" {
				from = "from image " + src.Image
			}
			fmt.Printf("%s %s: %s\nimage %s (%.1fs)\n", d.Name(), cfg.Version, from, image.Name, time.Since(start).Seconds())
			return nil
		},
	}
	// The database settings of `harness run`, and only those.
	all := cfg.Flags
	fl := c.Flags()
	tmp := cobra.Command{}
	all(tmp.Flags())
	for _, name := range []string{"db", "version", "binary", "image", "failpoints", "patch", "cache"} {
		fl.AddFlag(tmp.Flags().Lookup(name))
	}
	fl.StringVar(&kubeVersion, "kube-apiserver", "", "also build kube-apiserver at this Kubernetes release (e.g. "+kube.DefaultVersion+") and put it in the image")
	return c
}
