package pairing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
)

// Pair is the device's side: it asks the controller at url (ws://HOST:PORT
// /v1/devices/pair) for a code, calls show with it, and waits until a
// technician has paired it; an expired code is replaced by a new one (show
// is called again). It returns the device's id, name, room and token.
func Pair(ctx context.Context, url, profileID, firmware string, show func(code string, expires time.Time)) (Done, error) {
	for {
		done, err := pairOnce(ctx, url, profileID, firmware, show)
		if err != nil || done.Type == "paired" {
			return done, err
		}
		// Expired: ask again, after a pause so a broken controller is not
		// hammered.
		select {
		case <-ctx.Done():
			return Done{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func pairOnce(ctx context.Context, url, profileID, firmware string, show func(string, time.Time)) (Done, error) {
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return Done{}, fmt.Errorf("pairing: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.WriteJSON(Hello{Type: "pair", Profile: profileID, Firmware: firmware}); err != nil {
		return Done{}, fmt.Errorf("pairing: %w", err)
	}
	_, raw, err := conn.ReadMessage()
	if err != nil {
		return Done{}, fmt.Errorf("pairing: %w", err)
	}
	var code Code
	if err := json.Unmarshal(raw, &code); err != nil || code.Type != "pairing" {
		var refused Done
		json.Unmarshal(raw, &refused)
		return Done{}, fmt.Errorf("pairing: the controller refused: %s (%s)", refused.Message, refused.Code)
	}
	show(code.Code, code.Expires)
	var d Done
	if err := conn.ReadJSON(&d); err != nil {
		if ctx.Err() != nil {
			return Done{}, ctx.Err()
		}
		return Done{}, fmt.Errorf("pairing: connection lost while waiting: %w", err)
	}
	switch d.Type {
	case "paired":
		if d.Token == "" || d.Device == "" {
			return Done{}, errors.New("pairing: the controller said paired but sent no token")
		}
		return d, nil
	case "expired":
		return d, nil
	}
	return Done{}, fmt.Errorf("pairing: %s: %s", d.Code, d.Message)
}
