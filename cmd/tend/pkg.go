package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/pkg"
)

func pkgInstallCmd(env *cliEnv) *cobra.Command {
	var root string
	c := &cobra.Command{Use: "install PATH", Short: "install a package directory into the root", Args: args(cobra.ExactArgs(1))}
	c.Flags().StringVar(&root, "root", "", "tend's root directory (default $TEND_ROOT, else /var/lib/tend as root, else ~/.local/share/tend)")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		p, err := pkg.Install(rootDir(root, env.getenv), absIfPath(a[0]))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Installed %s at %s\n", p.Ident, p.Path)
		return nil
	}
	return c
}

// absIfPath makes a package directory argument absolute: the supervisor
// resolves it, and its working directory is not ours. An argument is a
// directory when it starts with . or / or names a directory holding IDENT;
// anything else is an ident.
func absIfPath(arg string) string {
	_, err := os.Stat(filepath.Join(arg, "IDENT"))
	if strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "/") || err == nil {
		if abs, err := filepath.Abs(arg); err == nil {
			return abs
		}
	}
	return arg
}
