package blehrs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// BlueZ reaches heart-rate straps through BlueZ, Linux's Bluetooth
// daemon, over D-Bus (org.bluez: Adapter1, Device1, GattCharacteristic1).
// It is what the ble-hrs transport uses on a site; its tests run it
// against python-dbusmock's BlueZ template on a private bus.
type BlueZ struct {
	Conn *dbus.Conn
	// Adapter is the adapter's object path, /org/bluez/hci0 when "".
	Adapter string
	// Wait bounds discovery, connecting and resolving services; 30 s
	// when 0.
	Wait time.Duration
}

const (
	bluez          = "org.bluez"
	ifaceDevice    = "org.bluez.Device1"
	ifaceAdapter   = "org.bluez.Adapter1"
	ifaceChar      = "org.bluez.GattCharacteristic1"
	ifaceProps     = "org.freedesktop.DBus.Properties"
	ifaceObjectMgr = "org.freedesktop.DBus.ObjectManager"
)

// uuid16 is a 16-bit UUID in the Bluetooth base UUID, as BlueZ writes it.
func uuid16(u uint16) string { return fmt.Sprintf("0000%04x-0000-1000-8000-00805f9b34fb", u) }

// Session is a connected strap: its measurements as they are notified,
// its battery as read at connecting (-1 when it has none), and Done,
// closed when the strap disconnects or ctx ends.
type Session struct {
	Values  <-chan []byte
	Battery int
	Done    <-chan struct{}
	close   func()
}

// Close stops the notifications and disconnects the strap.
func (s *Session) Close() { s.close() }

func (b *BlueZ) wait() time.Duration {
	if b.Wait > 0 {
		return b.Wait
	}
	return 30 * time.Second
}

func (b *BlueZ) adapter() dbus.ObjectPath {
	if b.Adapter != "" {
		return dbus.ObjectPath(b.Adapter)
	}
	return "/org/bluez/hci0"
}

// objects is BlueZ's object tree.
func (b *BlueZ) objects(ctx context.Context) (map[dbus.ObjectPath]map[string]map[string]dbus.Variant, error) {
	var objs map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	err := b.Conn.Object(bluez, "/").CallWithContext(ctx, ifaceObjectMgr+".GetManagedObjects", 0).Store(&objs)
	if err != nil {
		return nil, fmt.Errorf("bluez: list objects: %w", err)
	}
	return objs, nil
}

// device finds the device object of an address (AA:BB:CC:DD:EE:FF) under
// the adapter.
func (b *BlueZ) device(ctx context.Context, address string) (dbus.ObjectPath, map[string]dbus.Variant, error) {
	objs, err := b.objects(ctx)
	if err != nil {
		return "", nil, err
	}
	for p, ifs := range objs {
		d, ok := ifs[ifaceDevice]
		if !ok || !strings.HasPrefix(string(p), string(b.adapter())+"/") {
			continue
		}
		if a, _ := d["Address"].Value().(string); strings.EqualFold(a, address) {
			return p, d, nil
		}
	}
	return "", nil, nil
}

// poll calls f every 200 ms until it is done, fails, or the wait ends.
func (b *BlueZ) poll(ctx context.Context, what string, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, b.wait())
	defer cancel()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bluez: %s: gave up after %v", what, b.wait())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Connect finds the strap (discovering when BlueZ does not know it yet),
// connects, waits for its services, reads its battery and starts the
// heart-rate notifications.
func (b *BlueZ) Connect(ctx context.Context, address string) (*Session, error) {
	path, _, err := b.device(ctx, address)
	if err != nil {
		return nil, err
	}
	if path == "" {
		ad := b.Conn.Object(bluez, b.adapter())
		// Low energy only, and only what offers the Heart Rate Service.
		filter := map[string]dbus.Variant{"Transport": dbus.MakeVariant("le"), "UUIDs": dbus.MakeVariant([]string{uuid16(ServiceUUID)})}
		if err := ad.CallWithContext(ctx, ifaceAdapter+".SetDiscoveryFilter", 0, filter).Err; err != nil {
			return nil, fmt.Errorf("bluez: discovery filter on %s: %w", b.adapter(), err)
		}
		if err := ad.CallWithContext(ctx, ifaceAdapter+".StartDiscovery", 0).Err; err != nil {
			return nil, fmt.Errorf("bluez: start discovery on %s: %w", b.adapter(), err)
		}
		err := b.poll(ctx, "discover "+address, func() (bool, error) {
			path, _, err = b.device(ctx, address)
			return path != "", err
		})
		ad.CallWithContext(ctx, ifaceAdapter+".StopDiscovery", 0)
		if err != nil {
			return nil, err
		}
	}
	dev := b.Conn.Object(bluez, path)
	if err := dev.CallWithContext(ctx, ifaceDevice+".Connect", 0).Err; err != nil {
		return nil, fmt.Errorf("bluez: connect %s: %w", address, err)
	}
	var char, battery dbus.ObjectPath
	err = b.poll(ctx, "resolve the services of "+address, func() (bool, error) {
		objs, err := b.objects(ctx)
		if err != nil {
			return false, err
		}
		if d := objs[path][ifaceDevice]; d == nil {
			return false, fmt.Errorf("bluez: %s went away", address)
		} else if ok, _ := d["ServicesResolved"].Value().(bool); !ok {
			return false, nil
		}
		for p, ifs := range objs {
			c, ok := ifs[ifaceChar]
			if !ok || !strings.HasPrefix(string(p), string(path)+"/") {
				continue
			}
			switch u, _ := c["UUID"].Value().(string); strings.ToLower(u) {
			case uuid16(MeasurementUUID):
				char = p
			case uuid16(BatteryLevel):
				battery = p
			}
		}
		if char == "" {
			return false, fmt.Errorf("bluez: %s has no heart rate measurement (0x2A37): is it a heart-rate strap?", address)
		}
		return true, nil
	})
	if err != nil {
		dev.CallWithContext(ctx, ifaceDevice+".Disconnect", 0)
		return nil, err
	}
	level := -1
	if battery != "" {
		var v []byte
		if b.Conn.Object(bluez, battery).CallWithContext(ctx, ifaceChar+".ReadValue", 0, map[string]dbus.Variant{}).Store(&v) == nil && len(v) == 1 {
			level = int(v[0])
		}
	}

	signals := make(chan *dbus.Signal, 64)
	b.Conn.Signal(signals)
	matches := []dbus.MatchOption{dbus.WithMatchInterface(ifaceProps), dbus.WithMatchMember("PropertiesChanged")}
	for _, p := range []dbus.ObjectPath{char, path} {
		if err := b.Conn.AddMatchSignalContext(ctx, append(matches, dbus.WithMatchObjectPath(p))...); err != nil {
			b.Conn.RemoveSignal(signals)
			return nil, fmt.Errorf("bluez: watch %s: %w", p, err)
		}
	}
	if err := b.Conn.Object(bluez, char).CallWithContext(ctx, ifaceChar+".StartNotify", 0).Err; err != nil {
		b.Conn.RemoveSignal(signals)
		return nil, fmt.Errorf("bluez: start notifications of %s: %w", address, err)
	}
	values, done := make(chan []byte, 64), make(chan struct{})
	sctx, stop := context.WithCancel(ctx)
	go func() {
		defer close(done)
		defer close(values)
		for {
			select {
			case <-sctx.Done():
				return
			case sig := <-signals:
				if len(sig.Body) < 2 {
					continue
				}
				iface, _ := sig.Body[0].(string)
				changed, _ := sig.Body[1].(map[string]dbus.Variant)
				switch {
				case sig.Path == char && iface == ifaceChar:
					if v, ok := changed["Value"].Value().([]byte); ok {
						select {
						case values <- v:
						default: // a stalled reader drops readings rather than BlueZ's signals
						}
					}
				case sig.Path == path && iface == ifaceDevice:
					if c, ok := changed["Connected"].Value().(bool); ok && !c {
						return
					}
				}
			}
		}
	}()
	s := &Session{Values: values, Battery: level, Done: done}
	s.close = func() {
		stop()
		<-done
		b.Conn.RemoveSignal(signals)
		bg := context.Background()
		b.Conn.Object(bluez, char).CallWithContext(bg, ifaceChar+".StopNotify", 0)
		dev.CallWithContext(bg, ifaceDevice+".Disconnect", 0)
		for _, p := range []dbus.ObjectPath{char, path} {
			b.Conn.RemoveMatchSignalContext(bg, append(matches, dbus.WithMatchObjectPath(p))...)
		}
	}
	return s, nil
}

// SystemConnector connects to straps through BlueZ on the system D-Bus,
// reaching the bus at the first connection (and again after a failure), so
// that a controller without Bluetooth starts all the same and says why its
// straps stay offline.
func SystemConnector() Connector {
	var mu sync.Mutex
	var bz *BlueZ
	return func(ctx context.Context, address string) (*Session, error) {
		mu.Lock()
		if bz == nil || !bz.Conn.Connected() {
			conn, err := dbus.ConnectSystemBus()
			if err != nil {
				mu.Unlock()
				return nil, fmt.Errorf("bluez: no system D-Bus (is the dbus and bluetooth service running?): %w", err)
			}
			bz = &BlueZ{Conn: conn}
		}
		b := bz
		mu.Unlock()
		return b.Connect(ctx, address)
	}
}
