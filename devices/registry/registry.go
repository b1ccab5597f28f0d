// Package registry keeps the site's rooms and registered devices in the
// store: names, rooms, profiles, token hashes and live status. The CLI and a
// running controller share it through the same SQLite file.
package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"waystation/devices/profile"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// TokenPrefix starts every device token, so a leaked one is recognisable.
const TokenPrefix = "wsd_"

// Registry reads and writes rooms and devices.
type Registry struct {
	db  *sqlite.DB
	now func() time.Time
}

// New returns a registry on db.
func New(db *sqlite.DB) *Registry {
	return &Registry{db: db, now: time.Now}
}

// NewToken returns a fresh device token: 256 random bits.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what the store keeps of a token. A plain SHA-256 is enough:
// the token is 256 random bits, so there is nothing to guess by brute force.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// checkName refuses names a person could not read back or type.
func checkName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", waystation.Errorf(waystation.EINVALID, "%s name is empty", what)
	case len(name) > 64:
		return "", waystation.Errorf(waystation.EINVALID, "%s name %q is longer than 64 bytes", what, name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", waystation.Errorf(waystation.EINVALID, "%s name %q contains control characters", what, name)
	}
	return name, nil
}

// AddRoom adds a room. Names are unique, ignoring case.
func (r *Registry) AddRoom(ctx context.Context, name string) (waystation.Room, error) {
	name, err := checkName("room", name)
	if err != nil {
		return waystation.Room{}, err
	}
	room := waystation.Room{ID: waystation.NewID("r-"), Name: name, Created: r.now().UTC()}
	_, err = r.db.W.ExecContext(ctx, `INSERT INTO rooms (id, name, created) VALUES (?, ?, ?)`,
		room.ID, room.Name, sqlite.FormatTime(room.Created))
	if sqlite.IsUnique(err) {
		return waystation.Room{}, waystation.Errorf(waystation.ECONFLICT, "a room named %q exists already", name)
	}
	if err != nil {
		return waystation.Room{}, fmt.Errorf("add room %q: %w", name, err)
	}
	return room, nil
}

// Rooms lists the rooms by name.
func (r *Registry) Rooms(ctx context.Context) ([]waystation.Room, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT id, name, created FROM rooms ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	defer rows.Close()
	rooms := []waystation.Room{}
	for rows.Next() {
		var room waystation.Room
		if err := rows.Scan(&room.ID, &room.Name, sqlite.ScanTime(&room.Created)); err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		rooms = append(rooms, room)
	}
	return rooms, rows.Err()
}

// FindRoom finds a room by id or by name (ignoring case).
func (r *Registry) FindRoom(ctx context.Context, ref string) (waystation.Room, error) {
	var room waystation.Room
	err := r.db.R.QueryRowContext(ctx, `SELECT id, name, created FROM rooms WHERE id = ? OR name = ? COLLATE NOCASE`,
		ref, strings.TrimSpace(ref)).Scan(&room.ID, &room.Name, sqlite.ScanTime(&room.Created))
	if errors.Is(err, sql.ErrNoRows) {
		rooms, _ := r.Rooms(ctx)
		var names []string
		for _, rm := range rooms {
			names = append(names, rm.Name)
		}
		if len(names) == 0 {
			return room, waystation.Errorf(waystation.ENOTFOUND, "unknown room %q: there are no rooms yet (add one with: waystation room add NAME)", ref)
		}
		return room, waystation.Errorf(waystation.ENOTFOUND, "unknown room %q (rooms: %s)", ref, strings.Join(names, ", "))
	}
	if err != nil {
		return room, fmt.Errorf("find room %q: %w", ref, err)
	}
	return room, nil
}

// NewDevice is what a technician gives to register a device.
type NewDevice struct {
	Profile string
	Name    string
	Room    string // id or name
	// Address is where the controller reaches the device: HOST:PORT for
	// OSC, the serial port's path for serial; empty for websocket devices,
	// which connect to the controller themselves.
	Address string
	// PIN, for kiosks, is the technician's PIN (4 to 12 digits) that opens
	// the kiosk's settings page; it is stored as a bcrypt hash.
	PIN string
}

// PINCost is the bcrypt cost of kiosk PINs; tests lower it.
var PINCost = bcrypt.DefaultCost

// checkPIN hashes a kiosk PIN after checking its form.
func checkPIN(p *profile.Profile, pin string) (string, error) {
	if pin == "" {
		return "", nil
	}
	if p.Kind != "kiosk" {
		return "", waystation.Errorf(waystation.EINVALID, "profile %s is a %s: only kiosks take a PIN", p.ID, p.Kind)
	}
	if len(pin) < 4 || len(pin) > 12 || strings.Trim(pin, "0123456789") != "" {
		return "", waystation.Errorf(waystation.EINVALID, "a kiosk PIN is 4 to 12 digits")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), PINCost)
	if err != nil {
		return "", fmt.Errorf("hash PIN: %w", err)
	}
	return string(h), nil
}

// SetPIN sets (or, with an empty pin, clears) a kiosk's technician PIN.
// The kiosk learns it when it next connects.
func (r *Registry) SetPIN(ctx context.Context, profiles *profile.Set, id, pin string) error {
	d, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	p, ok := profiles.Get(d.ProfileID)
	if !ok {
		return waystation.Errorf(waystation.ECONFLICT, "device %s: its profile %s is not loaded", d.ID, d.ProfileID)
	}
	hash, err := checkPIN(p, pin)
	if err != nil {
		return err
	}
	if _, err := r.db.W.ExecContext(ctx, `UPDATE devices SET pin_hash = ? WHERE id = ?`, hash, d.ID); err != nil {
		return fmt.Errorf("set PIN of %s: %w", d.ID, err)
	}
	return nil
}

// PINHash returns the bcrypt hash of a kiosk's PIN, "" when none is set.
func (r *Registry) PINHash(ctx context.Context, id string) (string, error) {
	var h string
	err := r.db.R.QueryRowContext(ctx, `SELECT pin_hash FROM devices WHERE id = ?`, id).Scan(&h)
	if err != nil {
		return "", fmt.Errorf("PIN of %s: %w", id, err)
	}
	return h, nil
}

// Add registers a device and returns it with its token, which is shown once
// and never stored.
func (r *Registry) Add(ctx context.Context, profiles *profile.Set, nd NewDevice) (waystation.Device, string, error) {
	name, err := checkName("device", nd.Name)
	if err != nil {
		return waystation.Device{}, "", err
	}
	p, ok := profiles.Get(nd.Profile)
	if !ok {
		var ids []string
		for _, p := range profiles.List() {
			ids = append(ids, p.ID)
		}
		return waystation.Device{}, "", waystation.Errorf(waystation.ENOTFOUND, "unknown profile %q (profiles: %s)", nd.Profile, strings.Join(ids, ", "))
	}
	if err := checkAddress(p, nd.Address); err != nil {
		return waystation.Device{}, "", err
	}
	pinHash, err := checkPIN(p, nd.PIN)
	if err != nil {
		return waystation.Device{}, "", err
	}
	room, err := r.FindRoom(ctx, nd.Room)
	if err != nil {
		return waystation.Device{}, "", err
	}
	token := NewToken()
	d := waystation.Device{
		ID: waystation.NewID("d-"), Name: name, RoomID: room.ID, Room: room.Name, ProfileID: p.ID,
		Address: nd.Address, Created: r.now().UTC(), Status: waystation.DeviceOffline,
	}
	tx, err := r.db.W.BeginTx(ctx, nil)
	if err != nil {
		return waystation.Device{}, "", fmt.Errorf("add device: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO devices (id, name, room_id, profile_id, address, token_hash, pin_hash, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Name, d.RoomID, d.ProfileID, d.Address, HashToken(token), pinHash, sqlite.FormatTime(d.Created))
	if sqlite.IsUnique(err) {
		return waystation.Device{}, "", waystation.Errorf(waystation.ECONFLICT, "room %q already has a device named %q", room.Name, name)
	}
	if err != nil {
		return waystation.Device{}, "", fmt.Errorf("add device: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO device_status (device_id) VALUES (?)`, d.ID); err != nil {
		return waystation.Device{}, "", fmt.Errorf("add device: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return waystation.Device{}, "", fmt.Errorf("add device: %w", err)
	}
	return d, token, nil
}

var bluetoothAddr = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`)

// checkAddress requires an address exactly where the transport needs one.
func checkAddress(p *profile.Profile, addr string) error {
	switch p.Transport {
	case profile.TransportOSC:
		host, port, ok := strings.Cut(addr, ":")
		if addr == "" || !ok || host == "" || port == "" {
			return waystation.Errorf(waystation.EINVALID, "profile %s is an OSC device: give the address HOST:PORT where it listens", p.ID)
		}
	case profile.TransportSerial:
		if addr == "" {
			return waystation.Errorf(waystation.EINVALID, "profile %s is a serial device: give the port PATH it is on (such as /dev/ttyUSB0)", p.ID)
		}
	case profile.TransportBLEHRS:
		if !bluetoothAddr.MatchString(addr) {
			return waystation.Errorf(waystation.EINVALID, "profile %s is a Bluetooth heart-rate strap: give its Bluetooth address, such as A0:9E:1A:12:34:56 (bluetoothctl devices lists them)", p.ID)
		}
	default:
		if addr != "" {
			return waystation.Errorf(waystation.EINVALID, "profile %s (transport %s) connects to the controller itself; it takes no address", p.ID, p.Transport)
		}
	}
	return nil
}

const deviceColumns = `d.id, d.name, d.room_id, r.name, d.profile_id, d.address, d.created,
	COALESCE(s.status, 'offline'), s.last_seen, COALESCE(s.firmware, ''), s.firmware_ok, COALESCE(s.firmware_note, '')
	FROM devices d JOIN rooms r ON r.id = d.room_id LEFT JOIN device_status s ON s.device_id = d.id`

func scanDevice(sc interface{ Scan(...any) error }) (waystation.Device, error) {
	var d waystation.Device
	var fwOK sql.NullBool
	err := sc.Scan(&d.ID, &d.Name, &d.RoomID, &d.Room, &d.ProfileID, &d.Address, sqlite.ScanTime(&d.Created),
		&d.Status, sqlite.ScanNullTime(&d.LastSeen), &d.Firmware, &fwOK, &d.FirmwareNote)
	if err != nil {
		return d, err
	}
	if fwOK.Valid {
		d.FirmwareOK = &fwOK.Bool
	}
	return d, nil
}

// List returns every registered device, by room and name.
func (r *Registry) List(ctx context.Context) ([]waystation.Device, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT `+deviceColumns+` WHERE d.removed IS NULL ORDER BY r.name, d.name`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	devices := []waystation.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		devices = append(devices, d)
	}
	return devices, rows.Err()
}

// Get finds a registered device by id, or by name where only one device
// has that name.
func (r *Registry) Get(ctx context.Context, ref string) (waystation.Device, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT `+deviceColumns+` WHERE d.removed IS NULL AND (d.id = ? OR d.name = ? COLLATE NOCASE) ORDER BY d.id = ? DESC`, ref, ref, ref)
	if err != nil {
		return waystation.Device{}, fmt.Errorf("get device %q: %w", ref, err)
	}
	defer rows.Close()
	var found []waystation.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return waystation.Device{}, fmt.Errorf("get device %q: %w", ref, err)
		}
		found = append(found, d)
	}
	if err := rows.Err(); err != nil {
		return waystation.Device{}, fmt.Errorf("get device %q: %w", ref, err)
	}
	switch {
	case len(found) == 0:
		return waystation.Device{}, waystation.Errorf(waystation.ENOTFOUND, "unknown device %q (see: waystation device list)", ref)
	case found[0].ID == ref || len(found) == 1:
		return found[0], nil
	default:
		var where []string
		for _, d := range found {
			where = append(where, d.ID+" in "+d.Room)
		}
		return waystation.Device{}, waystation.Errorf(waystation.ECONFLICT, "%d devices are named %q (%s): give the id", len(found), ref, strings.Join(where, ", "))
	}
}

// Remove unregisters a device: its token stops working at once. Its row
// stays, without the token, because stored events name it as their source.
func (r *Registry) Remove(ctx context.Context, ref string) (waystation.Device, error) {
	d, err := r.Get(ctx, ref)
	if err != nil {
		return d, err
	}
	_, err = r.db.W.ExecContext(ctx, `UPDATE devices SET removed = ?, token_hash = NULL WHERE id = ? AND removed IS NULL`,
		sqlite.FormatTime(r.now()), d.ID)
	if err != nil {
		return d, fmt.Errorf("remove device %s: %w", d.ID, err)
	}
	return d, nil
}

// SetAddress changes where the controller reaches an OSC device (HOST:PORT)
// or a serial device's port (PATH), checked as at registration.
func (r *Registry) SetAddress(ctx context.Context, profiles *profile.Set, ref, addr string) (waystation.Device, error) {
	d, err := r.Get(ctx, ref)
	if err != nil {
		return d, err
	}
	p, ok := profiles.Get(d.ProfileID)
	if !ok {
		return d, waystation.Errorf(waystation.ECONFLICT, "device %s has profile %q, which is not loaded", d.ID, d.ProfileID)
	}
	if err := checkAddress(p, addr); err != nil {
		return d, err
	}
	if _, err := r.db.W.ExecContext(ctx, `UPDATE devices SET address = ? WHERE id = ?`, addr, d.ID); err != nil {
		return d, fmt.Errorf("set address of %s: %w", d.ID, err)
	}
	d.Address = addr
	return d, nil
}

// Rename gives a device a new name, unique in its room.
func (r *Registry) Rename(ctx context.Context, ref, name string) (waystation.Device, error) {
	d, err := r.Get(ctx, ref)
	if err != nil {
		return d, err
	}
	name, err = checkName("device", name)
	if err != nil {
		return d, err
	}
	_, err = r.db.W.ExecContext(ctx, `UPDATE devices SET name = ? WHERE id = ?`, name, d.ID)
	if sqlite.IsUnique(err) {
		return d, waystation.Errorf(waystation.ECONFLICT, "room %q already has a device named %q", d.Room, name)
	}
	if err != nil {
		return d, fmt.Errorf("rename %s: %w", d.ID, err)
	}
	d.Name = name
	return d, nil
}

// Move puts a device in another room (by id or name); its name must be
// free there.
func (r *Registry) Move(ctx context.Context, ref, room string) (waystation.Device, error) {
	d, err := r.Get(ctx, ref)
	if err != nil {
		return d, err
	}
	rm, err := r.FindRoom(ctx, room)
	if err != nil {
		return d, err
	}
	_, err = r.db.W.ExecContext(ctx, `UPDATE devices SET room_id = ? WHERE id = ?`, rm.ID, d.ID)
	if sqlite.IsUnique(err) {
		return d, waystation.Errorf(waystation.ECONFLICT, "room %q already has a device named %q", rm.Name, d.Name)
	}
	if err != nil {
		return d, fmt.Errorf("move %s: %w", d.ID, err)
	}
	d.RoomID, d.Room = rm.ID, rm.Name
	return d, nil
}

// RotateToken issues a new token for a device; the old one stops working at
// once, and a device connected with it is disconnected by the controller.
func (r *Registry) RotateToken(ctx context.Context, ref string) (waystation.Device, string, error) {
	d, err := r.Get(ctx, ref)
	if err != nil {
		return d, "", err
	}
	token := NewToken()
	if _, err := r.db.W.ExecContext(ctx, `UPDATE devices SET token_hash = ? WHERE id = ?`, HashToken(token), d.ID); err != nil {
		return d, "", fmt.Errorf("rotate token of %s: %w", d.ID, err)
	}
	return d, token, nil
}

// Authenticate returns the device a token belongs to. Every failure is the
// same EUNAUTHORIZED, so a caller learns nothing about which tokens exist.
func (r *Registry) Authenticate(ctx context.Context, token string) (waystation.Device, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return waystation.Device{}, waystation.Errorf(waystation.EUNAUTHORIZED, "invalid device token")
	}
	d, err := scanDevice(r.db.R.QueryRowContext(ctx, `SELECT `+deviceColumns+` WHERE d.removed IS NULL AND d.token_hash = ?`, HashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return d, waystation.Errorf(waystation.EUNAUTHORIZED, "invalid device token")
	}
	if err != nil {
		return d, fmt.Errorf("authenticate device: %w", err)
	}
	return d, nil
}

// TokenValid reports whether hash is still the token hash of a registered
// device; a running controller asks it after the registry changes.
func (r *Registry) TokenValid(ctx context.Context, deviceID string, hash []byte) (bool, error) {
	var stored []byte
	err := r.db.R.QueryRowContext(ctx, `SELECT token_hash FROM devices WHERE id = ? AND removed IS NULL`, deviceID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check token of %s: %w", deviceID, err)
	}
	return subtle.ConstantTimeCompare(stored, hash) == 1, nil
}

// Generation changes whenever a device is added, changed or removed, by
// this process or another.
func (r *Registry) Generation(ctx context.Context) (int64, error) {
	var gen int64
	err := r.db.R.QueryRowContext(ctx, `SELECT gen FROM registry_gen WHERE id = 1`).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("read registry generation: %w", err)
	}
	return gen, nil
}

// Touch moves the generation on without changing a device, so that the
// adapters look at their devices again (after a profile reload).
func (r *Registry) Touch(ctx context.Context) error {
	if _, err := r.db.W.ExecContext(ctx, `UPDATE registry_gen SET gen = gen + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("touch registry generation: %w", err)
	}
	return nil
}

// Hello records that a device connected and what firmware it reported.
func (r *Registry) Hello(ctx context.Context, id, firmware string, ok bool, note string) error {
	_, err := r.db.W.ExecContext(ctx, `INSERT INTO device_status (device_id, status, last_seen, firmware, firmware_ok, firmware_note)
		VALUES (?, 'online', ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET status = 'online', last_seen = excluded.last_seen,
			firmware = excluded.firmware, firmware_ok = excluded.firmware_ok, firmware_note = excluded.firmware_note`,
		id, sqlite.FormatTime(r.now()), firmware, ok, note)
	if err != nil {
		return fmt.Errorf("record hello of %s: %w", id, err)
	}
	return nil
}

// Seen records when each device was last heard from, in one transaction.
func (r *Registry) Seen(ctx context.Context, lastSeen map[string]time.Time) error {
	if len(lastSeen) == 0 {
		return nil
	}
	tx, err := r.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record last seen: %w", err)
	}
	defer tx.Rollback()
	for id, t := range lastSeen {
		if _, err := tx.ExecContext(ctx, `UPDATE device_status SET last_seen = ? WHERE device_id = ?`, sqlite.FormatTime(t), id); err != nil {
			return fmt.Errorf("record last seen of %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// Offline records that a device disconnected.
func (r *Registry) Offline(ctx context.Context, id string, lastSeen time.Time) error {
	_, err := r.db.W.ExecContext(ctx, `UPDATE device_status SET status = 'offline', last_seen = ? WHERE device_id = ?`,
		sqlite.FormatTime(lastSeen), id)
	if err != nil {
		return fmt.Errorf("record %s offline: %w", id, err)
	}
	return nil
}

// AllOffline marks every device offline; a controller starting up calls it,
// since no device can be connected to a controller that was not running.
func (r *Registry) AllOffline(ctx context.Context) error {
	if _, err := r.db.W.ExecContext(ctx, `UPDATE device_status SET status = 'offline' WHERE status != 'offline'`); err != nil {
		return fmt.Errorf("mark devices offline: %w", err)
	}
	return nil
}
