package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/hart"
	"github.com/tend-sh/tend/internal/pkg"
)

const rootFlagHelp = "tend's root directory (default $TEND_ROOT, else /var/lib/tend as root, else ~/.local/share/tend)"

func pkgInstallCmd(env *cliEnv) *cobra.Command {
	var root string
	c := &cobra.Command{
		Use:   "install PATH",
		Short: "install a package directory, or a signed Habitat artifact (.hart), into the root",
		Args:  args(cobra.ExactArgs(1)),
	}
	c.Flags().StringVar(&root, "root", "", rootFlagHelp)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		root := rootDir(root, env.getenv)
		if fi, err := os.Stat(a[0]); err == nil && fi.Mode().IsRegular() {
			res, err := pkg.InstallHart(root, a[0])
			if err != nil {
				return err
			}
			if res.Already {
				fmt.Fprintf(env.stdout, "%s is already installed at %s\n", res.Package.Ident, res.Package.Path)
				return nil
			}
			fmt.Fprintf(env.stdout, "Installed %s at %s (signed with %s)\n", res.Package.Ident, res.Package.Path, res.Signer)
			return nil
		}
		p, err := pkg.Install(root, absIfPath(a[0]))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Installed %s at %s\n", p.Ident, p.Path)
		return nil
	}
	return c
}

func pkgSignCmd(env *cliEnv) *cobra.Command {
	var root, origin string
	c := &cobra.Command{
		Use:   "sign [--origin ORIGIN] SRC DEST.hart",
		Short: "write a signed Habitat artifact of a package directory (or of an xz tar payload) with the origin's newest secret key",
		Args:  args(cobra.ExactArgs(2)),
	}
	c.Flags().StringVar(&root, "root", "", rootFlagHelp)
	c.Flags().StringVar(&origin, "origin", "", "origin whose key signs (default: the package's origin, the only one tend accepts)")
	c.RunE = func(cmd *cobra.Command, a []string) error {
		s, err := pkg.Sign(rootDir(root, env.getenv), a[0], a[1], origin)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Signed %s with %s into %s\n", s.Ident, s.Signer, a[1])
		return nil
	}
	return c
}

func originKeyGenerateCmd(env *cliEnv) *cobra.Command {
	var root string
	c := &cobra.Command{
		Use:   "generate ORIGIN",
		Short: "make an origin signing key pair in ROOT/cache/keys: ORIGIN-REVISION.pub (0644) and ORIGIN-REVISION.sig.key (0600, secret)",
		Args:  args(cobra.ExactArgs(1)),
	}
	c.Flags().StringVar(&root, "root", "", rootFlagHelp)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		_, sec, err := hart.GenerateKeyPair(a[0], time.Now())
		if err != nil {
			return err
		}
		pubPath, secPath, err := hart.KeyCache(pkg.KeysDir(rootDir(root, env.getenv))).WritePair(sec)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Generated origin key pair %s: %s and %s\n", sec.Name, pubPath, secPath)
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
