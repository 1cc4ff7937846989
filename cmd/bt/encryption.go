package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bt-go/bt"
)

// encryptionFlag is --encryption: the Message Stream Encryption policy.
type encryptionFlag struct{ policy string }

func (f *encryptionFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.policy, "encryption", "tolerated",
		`peer encryption (MSE/PE), as Transmission names it: "required" (RC4 only), "preferred" (try RC4 first), `+
			`"tolerated" (plaintext first, encrypted when the peer wants it), "disabled" (plaintext only)`)
}

func (f *encryptionFlag) configure(cfg *bt.Config) error {
	if f.policy == "" {
		return nil
	}
	e, err := bt.ParseEncryption(f.policy)
	if err != nil {
		return fmt.Errorf("--encryption: %q is not one of required, preferred, tolerated, disabled", f.policy)
	}
	cfg.Encryption = e
	return nil
}
