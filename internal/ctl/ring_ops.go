package ctl

import (
	"context"
	"io"
	"net/http"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/rumor"
)

const (
	pathConfigApply = "/v1/config/apply"
	pathFileUpload  = "/v1/file/upload"
	pathDepart      = "/v1/sup/depart"
)

type departRequest struct {
	MemberID string `json:"member_id"`
}

// ringOps are the ring's entries of the operation table. Config and file
// bodies are at most 64 KiB; JSON carries them base64-encoded, so the body
// limit leaves room for that.
func ringOps() map[string]op {
	const bodyLimit = 256 << 10
	return map[string]op{
		pathConfigApply: {method: http.MethodPost, maxBody: bodyLimit, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[api.ConfigApply](in.body)
			if err != nil {
				return nil, err
			}
			return nil, c.ConfigApply(ctx, req, progress)
		}},
		pathFileUpload: {method: http.MethodPost, maxBody: bodyLimit, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[api.FileUpload](in.body)
			if err != nil {
				return nil, err
			}
			if err := rumor.CheckFilename(req.Filename); err != nil {
				return nil, api.Errorf(api.BadRequest, "%v", err)
			}
			return nil, c.FileUpload(ctx, req, progress)
		}},
		pathDepart: {method: http.MethodPost, run: func(ctx context.Context, c Controller, in input, progress func(string)) (any, error) {
			req, err := decode[departRequest](in.body)
			if err != nil {
				return nil, err
			}
			if req.MemberID == "" {
				return nil, api.Errorf(api.BadRequest, "member_id is required")
			}
			return nil, c.Depart(ctx, req.MemberID, progress)
		}},
	}
}

// ConfigApply pushes TOML config to every member of a service group.
func (c *Client) ConfigApply(ctx context.Context, req api.ConfigApply, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathConfigApply, nil, req, progress, nil)
}

// FileUpload pushes a file to every member of a service group.
func (c *Client) FileUpload(ctx context.Context, req api.FileUpload, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathFileUpload, nil, req, progress, nil)
}

// Depart tells the ring that a member has left for good.
func (c *Client) Depart(ctx context.Context, memberID string, progress io.Writer) error {
	return c.do(ctx, http.MethodPost, pathDepart, nil, departRequest{MemberID: memberID}, progress, nil)
}
