//go:build tools

// Package tools keeps the buildx command in this module's build list (go build ./... builds nothing).
package tools

import _ "github.com/docker/buildx/cmd/buildx"
