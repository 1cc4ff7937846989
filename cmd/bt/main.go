// Command bt is a BitTorrent client: it makes and inspects .torrent files,
// downloads and seeds torrents, and runs a tracker.
//
// Each subcommand lives in a file of its own and registers itself with
// rootCmd from an init function.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var rootCmd = &cobra.Command{
	Use:           "bt",
	Short:         "bt is a BitTorrent client, library and tracker",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit status. The
// first SIGINT or SIGTERM cancels the command's context so it can end
// cleanly; a second one exits at once.
func run(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	finished := make(chan struct{}) // run has returned (ctx ends at the first signal)
	defer close(finished)
	go func() {
		select {
		case <-sig:
		case <-finished:
			return
		}
		cancel()
		select {
		case <-sig:
			fmt.Fprintln(os.Stderr, "bt: interrupted twice, exiting now")
			os.Exit(130)
		case <-finished:
		}
	}()

	resetCommands(rootCmd)
	rootCmd.SetArgs(args)
	if err := rootCmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bt: %v\n", err)
		return 1
	}
	return 0
}

// resetCommands puts every flag of cmd and its subcommands back to its
// default and forgets the context of an earlier run (cobra keeps a
// subcommand's first context), so that run can be called more than once in
// one process, as the tests do.
func resetCommands(cmd *cobra.Command) {
	cmd.SetContext(nil) //lint:ignore SA1012 cobra gives a command with no context the next execution's
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			sv.Replace(nil)
		} else {
			f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	cmd.Flags().VisitAll(reset)
	cmd.PersistentFlags().VisitAll(reset)
	for _, c := range cmd.Commands() {
		resetCommands(c)
	}
}
