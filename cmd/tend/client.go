package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/ctl"
	"github.com/tend-sh/tend/internal/supcfg"
	"github.com/tend-sh/tend/internal/supreg"
)

// remoteFlags are taken by every command that talks to a supervisor.
type remoteFlags struct {
	remote string
	root   string
	name   string
	tls    ctl.ClientFiles
	// nameSet: --override-name was given, so the registry's is not used.
	nameSet bool
}

// tlsSetting is one TLS setting of the CLI: a flag and its variable.
// Habitat keeps these in cli.toml (ctl_server_ca_certificate,
// ctl_client_certificate, ctl_client_key, ctl_server_name_indication) and
// reads no variable for them; tend has no cli.toml, so the flags are named
// after those keys and each has a TEND_ variable, so a shell can set them
// once for every command.
type tlsSetting struct {
	field           *string
	flag, env, help string
}

func (f *remoteFlags) tlsSettings() []tlsSetting {
	return []tlsSetting{
		{&f.tls.ServerCA, "ctl-server-ca-certificate", "TEND_CTL_SERVER_CA_CERTIFICATE",
			"CA certificate (PEM, or a directory of ctl-gateway-*.crt.pem) the gateway's certificate must be signed by; turns TLS on"},
		{&f.tls.Cert, "ctl-client-certificate", "TEND_CTL_CLIENT_CERTIFICATE",
			"client certificate (PEM, or a directory) for a gateway that requires one; needs --ctl-client-key"},
		{&f.tls.Key, "ctl-client-key", "TEND_CTL_CLIENT_KEY",
			"client private key (PEM, or a directory of ctl-gateway-*.key.pem)"},
		{&f.tls.ServerName, "ctl-server-name-indication", "TEND_CTL_SERVER_NAME_INDICATION",
			"name the gateway's certificate must hold, when not the host of --remote-sup"},
	}
}

func (f *remoteFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.remote, "remote-sup", "127.0.0.1:9632", "address of the supervisor's control gateway")
	c.Flags().StringVar(&f.root, "root", "", "tend's root directory, to find CTL_SECRET (default $TEND_ROOT, else the root of the supervisor running at --remote-sup, else /var/lib/tend as root, else ~/.local/share/tend)")
	c.Flags().StringVar(&f.name, "override-name", "default", "the supervisor's state directory name under ROOT/sup")
	for _, t := range f.tlsSettings() {
		c.Flags().StringVar(t.field, t.flag, "", t.help+" (env "+t.env+")")
	}
	c.PreRun = func(c *cobra.Command, _ []string) { f.nameSet = c.Flags().Changed("override-name") }
}

func (f *remoteFlags) client(env *cliEnv) (*ctl.Client, error) {
	// A flag wins over its variable, one setting at a time.
	for _, t := range f.tlsSettings() {
		if *t.field == "" {
			*t.field = env.getenv(t.env)
		}
	}
	tlsCfg, err := ctl.ClientTLS(f.tls)
	if err != nil {
		return nil, err
	}
	root, name := rootDir(f.root, env.getenv), f.name
	if f.root == "" && env.getenv("TEND_ROOT") == "" {
		// No root given: the supervisor at --remote-sup says where its
		// root is (a `make run` root, or any other), through the registry.
		if e, ok := supreg.ControlRoot(supreg.Dir(env.getenv, os.Geteuid()), f.remote); ok {
			root = e.Root
			if !f.nameSet && e.Name != "" {
				name = e.Name
			}
		}
	}
	secret, err := ctl.ReadSecret(filepath.Join(root, "sup", name), env.getenv)
	if err != nil {
		return nil, fmt.Errorf("control gateway secret: %w (set TEND_CTL_SECRET or --root)", err)
	}
	return ctl.NewClientTLS(f.remote, secret, tlsCfg), nil
}

// rootDir resolves the root the way `sup run` does.
func rootDir(flag string, getenv func(string) string) string {
	switch {
	case flag != "":
		return flag
	case getenv("TEND_ROOT") != "":
		return getenv("TEND_ROOT")
	}
	return supcfg.DefaultRoot(getenv, os.Geteuid())
}

func withClient(env *cliEnv, f *remoteFlags, do func(ctx context.Context, c *ctl.Client) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		c, err := f.client(env)
		if err != nil {
			return err
		}
		return do(cmd.Context(), c)
	}
}
