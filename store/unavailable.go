package store

import (
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// IsUnavailable reports whether err means the database could not be
// reached (down, restarting, refusing connections), as opposed to a
// problem with the request.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		class := string(pqErr.Code)
		// 08: connection exception; 57P0x: the server is shutting down.
		return strings.HasPrefix(class, "08") || strings.HasPrefix(class, "57P0")
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "bad connection") || strings.Contains(err.Error(), "connection refused")
}

// IsBadValue reports whether PostgreSQL refused a value a statement
// compared or stored (SQLSTATE class 22, data exception: a string where a
// number goes, a time zone offset out of range, a NUL byte). Such a value
// comes from the request, so the error's message names it.
func IsBadValue(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && strings.HasPrefix(string(pqErr.Code), "22")
}
