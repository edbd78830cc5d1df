//go:build tools

// Package tools keeps the compose command in this module's build list (go build ./... builds nothing).
package tools

import _ "github.com/docker/compose/v5/cmd"
