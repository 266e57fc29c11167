package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/ctl"
)

// supSecretCmd is Habitat's `hab sup secret`: what an operator needs to
// reach a supervisor's control gateway from elsewhere.
func supSecretCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "secret", Short: "make control-gateway secrets and TLS pairs"}
	c.AddCommand(supSecretGenerateCmd(env), supSecretGenerateTLSCmd(env))
	return c
}

func supSecretGenerateCmd(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "print a new control-gateway secret (for ROOT/sup/NAME/CTL_SECRET, mode 0600, or TEND_CTL_SECRET)",
		Args:  args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			// Printed, not written, as Habitat does: where it goes (a
			// supervisor's CTL_SECRET, a vault, a variable) is the
			// operator's choice.
			_, err := fmt.Fprintf(env.stdout, "%s\n", ctl.NewSecret())
			return err
		},
	}
}

func supSecretGenerateTLSCmd(env *cliEnv) *cobra.Command {
	var san, root string
	c := &cobra.Command{
		Use:   "generate-tls --subject-alternative-name NAME [DIR]",
		Short: "make a self-signed certificate and key for the control gateway (or the CLI) in DIR (default ROOT/cache/keys/ctl): ctl-gateway-REVISION.crt.pem (0644) and .key.pem (0600, secret)",
		Args:  args(cobra.MaximumNArgs(1)),
	}
	c.Flags().StringVar(&san, "subject-alternative-name", "", "DNS name (or IP address) the certificate is for; localhost, 127.0.0.1 and ::1 are always added")
	c.Flags().StringVar(&root, "root", "", rootFlagHelp)
	c.RunE = func(_ *cobra.Command, a []string) error {
		if san == "" {
			return usageError{fmt.Errorf("generate-tls needs --subject-alternative-name NAME")}
		}
		dir := ctl.KeysDir(rootDir(root, env.getenv))
		if len(a) == 1 {
			dir = a[0]
		}
		certPath, keyPath, err := ctl.GenerateTLS(dir, san, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Generated control gateway certificate %s and key %s\n", certPath, keyPath)
		return nil
	}
	return c
}
