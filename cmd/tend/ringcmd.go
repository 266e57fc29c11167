package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ctl"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/store"
)

// maxPush is the largest config or file a group can be sent (Habitat's 64 KiB).
const maxPush = 64 << 10

func configApplyCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	c := &cobra.Command{
		Use:   "apply SERVICE.GROUP VERSION [FILE|-]",
		Short: "push TOML config to every member of a service group; VERSION must grow",
		Args:  args(cobra.RangeArgs(2, 3)),
	}
	rf.bind(c)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		version, err := parseVersion(a[1])
		if err != nil {
			return err
		}
		file := "-"
		if len(a) == 3 {
			file = a[2]
		}
		body, err := readLimited(file, env)
		if err != nil {
			return err
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.ConfigApply(ctx, api.ConfigApply{ServiceGroup: a[0], Version: version, Config: body}, env.stdout)
		})(cmd, a)
	}
	return c
}

func fileUploadCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	c := &cobra.Command{
		Use:   "upload SERVICE.GROUP VERSION FILE",
		Short: "push a file to every member of a service group; VERSION must grow",
		Args:  args(cobra.ExactArgs(3)),
	}
	rf.bind(c)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		version, err := parseVersion(a[1])
		if err != nil {
			return err
		}
		body, err := readLimited(a[2], env)
		if err != nil {
			return err
		}
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.FileUpload(ctx, api.FileUpload{ServiceGroup: a[0], Version: version, Filename: filepath.Base(a[2]), Body: body}, env.stdout)
		})(cmd, a)
	}
	return c
}

func supDepartCmd(env *cliEnv) *cobra.Command {
	var rf remoteFlags
	c := &cobra.Command{Use: "depart MEMBER_ID", Short: "tell the ring that a member has left for good", Args: args(cobra.ExactArgs(1))}
	rf.bind(c)
	c.RunE = func(cmd *cobra.Command, a []string) error {
		return withClient(env, &rf, func(ctx context.Context, cl *ctl.Client) error {
			return cl.Depart(ctx, a[0], env.stdout)
		})(cmd, a)
	}
	return c
}

func ringKeyGenerateCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{Use: "generate [FILE]", Short: "make a new ring encryption key (printed, or written to FILE with mode 0600)", Args: args(cobra.MaximumNArgs(1))}
	c.RunE = func(cmd *cobra.Command, a []string) error {
		key, err := ring.GenerateKey()
		if err != nil {
			return err
		}
		if len(a) == 0 {
			fmt.Fprintln(env.stdout, key)
			return nil
		}
		if _, err := os.Stat(a[0]); err == nil {
			return fmt.Errorf("%s exists; not overwriting a ring key", a[0])
		}
		if err := store.WriteFile(a[0], []byte(key+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "Ring key written to %s\n", a[0])
		return nil
	}
	return c
}

func parseVersion(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("version %s is more than the limit of %d", s, uint64(math.MaxUint64))
	}
	if err != nil || v == 0 {
		return 0, fmt.Errorf("version %q must be a positive whole number", s)
	}
	return v, nil
}

// readLimited reads FILE ("-" = stdin) and refuses more than 64 KiB.
func readLimited(file string, env *cliEnv) ([]byte, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPush+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPush {
		return nil, errors.New(file + " is larger than 64 KiB")
	}
	return b, nil
}
