package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/run"
)

func buildCmd() *cobra.Command {
	cfg := run.NewConfig()
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
	return c
}
