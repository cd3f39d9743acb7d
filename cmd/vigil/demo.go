package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/vigil-dev/vigil/internal/demo"
)

func newDemoCmd() *cobra.Command {
	var dataDir, addr string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run everything embedded: a demo shop, probes against it, SLOs, history, reviews and the UI",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo.Run(cmd.Context(), demo.Options{DataDir: dataDir, Addr: addr, Out: cmd.OutOrStdout()})
		},
	}
	c.Flags().StringVar(&dataDir, "data", "", "data directory (default under the user's cache directory)")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address of the UI and API")

	var shopAddr string
	shop := &cobra.Command{
		Use:   "shop",
		Short: "Run the demo shop alone (for trying journeys by hand and for tests)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password := os.Getenv("VIGIL_DEMO_SHOP_PASSWORD")
			if password == "" {
				password = "probe-password"
			}
			_, url, done, err := demo.StartShop(cmd.Context(), shopAddr, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo shop at %s (user %s; password from VIGIL_DEMO_SHOP_PASSWORD, default probe-password)\n", url, demo.ShopUser)
			return <-done
		},
	}
	shop.Flags().StringVar(&shopAddr, "addr", "127.0.0.1:8081", "address to listen on (port 0 picks a free one)")
	c.AddCommand(shop)
	return c
}
