package account

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// Sender delivers a login code to a phone.
type Sender interface {
	SendLoginCode(ctx context.Context, phone, code string) error
}

// Outbox is the development Sender used when no SMS gateway is configured:
// it appends one line "<phone>\t<code>" per message to a file. Codes never
// go to the log or a response.
type Outbox struct {
	Path string
	mu   sync.Mutex
}

// SendLoginCode implements Sender.
func (o *Outbox) SendLoginCode(_ context.Context, phone, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s\t%s\n", phone, code); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
