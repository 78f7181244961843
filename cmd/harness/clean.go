package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/cluster"
)

func cleanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "clean",
		Short: "Remove every container and network a crashed or killed run left behind",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := cluster.NewDocker(cmd.Context(), cluster.DockerOptions{})
			if err != nil {
				return setupError("%v", err)
			}
			rep, err := d.Clean(cmd.Context())
			if err != nil {
				return setupError("cleaning: %v", err)
			}
			fmt.Println(rep)
			return nil
		},
	}
}
