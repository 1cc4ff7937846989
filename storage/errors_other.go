//go:build !unix

package storage

func isQuota(error) bool { return false }
