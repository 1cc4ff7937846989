package main

import (
	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newSeedCmd()) }

func newSeedCmd() *cobra.Command {
	var f transferFlags
	cmd := &cobra.Command{
		Use:   "seed [--dir DIR] [--port N] [--peer HOST:PORT]... FILE.torrent",
		Short: "Check a torrent's data and seed it until interrupted",
		Long: `Seed hash-checks the torrent's data in DIR and, if it is all there,
uploads it to peers that connect to --port and to the --peer addresses until
interrupted (Ctrl-C). It announces itself to the torrent's trackers (and
--tracker URLs) and, unless --no-dht or the torrent is private, on the DHT.`,
		Example: `  bt seed --dir ~/shared --port 6881 photos.torrent`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer f.reset()
			return runTransfer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), "seed", args[0], &f, true, true)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// reset restores the defaults of the shared flags after a run, so that a
// command executed again in the same process (tests) does not inherit them.
func (f *transferFlags) reset() {
	f.dir, f.port, f.peers, f.quiet, f.debug = ".", 0, nil, false, false
}
