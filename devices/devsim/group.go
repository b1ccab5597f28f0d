package devsim

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"waystation/kiosk/sandtray"
	"waystation/kiosk/sandtray/groupview"
)

// GroupThink is how long the simulated member thinks before acting on
// the group tray when GroupThinkMS is 0.
const GroupThink = 1500 * time.Millisecond

// groupFigures are what a simulated member takes from the shelf.
var groupFigures = []string{"house", "evergreen-tree", "deciduous-tree", "lion", "sailboat", "dog", "cat", "horse", "rabbit", "turtle"}

// group is a simulated kiosk's copy of the group tray it is shown (every
// kiosk keeps one), and, with GroupTray, whether its member is acting.
type group struct {
	mu     sync.Mutex
	mirror groupview.Mirror
	acting bool
	last   int64 // dseq of the member's last action
	rng    *rand.Rand
}

// groupCommand takes a sandtray.group command into the kiosk's copy: the
// ack's ok, and why not (a step after a gap: the controller then sends
// the whole tray). A member's turn coming sets them acting.
func (d *Device) groupCommand(session string, raw json.RawMessage) (bool, string) {
	var c groupview.Command
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, err.Error()
	}
	g := d.groupState()
	g.mu.Lock()
	err := g.mirror.Apply(c)
	start := err == nil && d.GroupTray && g.mirror.MyTurn() && !g.acting
	if start {
		g.acting = true
	}
	g.mu.Unlock()
	if err != nil {
		return false, err.Error()
	}
	if start {
		d.answer(func(ctx context.Context) { d.groupAct(ctx, session) })
	}
	return true, ""
}

func (d *Device) groupState() *group {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.group == nil {
		d.group = &group{rng: rand.New(rand.NewPCG(rand.Uint64(), 0))}
	}
	return d.group
}

// groupAct is the simulated member's go on the group tray, after a think:
// move one of their own figures now and then, else place one from the
// shelf. Under free rules they go on acting, a think apart, while the
// build lasts; under turns once, until their turn comes again.
func (d *Device) groupAct(ctx context.Context, session string) {
	think := GroupThink
	if d.GroupThinkMS > 0 {
		think = time.Duration(d.GroupThinkMS) * time.Millisecond
	}
	g := d.groupState()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(think/2 + time.Duration(g.rng.Int64N(int64(think)))):
		}
		g.mu.Lock()
		if !g.mirror.MyTurn() {
			g.acting = false
			g.mu.Unlock()
			return
		}
		a := g.choose()
		free := g.mirror.Rules == groupview.Free
		if !free {
			g.acting = false // the next step with the member's turn starts them again
		}
		g.mu.Unlock()
		fields, _ := json.Marshal(a)
		var data map[string]any
		json.Unmarshal(fields, &data)
		delete(data, "kind")
		seq := d.Event(session, sandtray.EventPrefix+a.Kind, data)
		g.mu.Lock()
		g.last = seq
		g.mu.Unlock()
		if !free {
			return
		}
	}
}

// choose picks the member's next action. Called with g.mu held.
func (g *group) choose() sandtray.Action {
	var mine []sandtray.Placement
	for _, p := range g.mirror.Tray.Placed {
		if g.mirror.Mine(p.ID) {
			mine = append(mine, p)
		}
	}
	x, y := 0.1+0.8*g.rng.Float64(), 0.1+0.8*g.rng.Float64()
	if len(mine) > 0 && (g.rng.IntN(3) == 0 || len(g.mirror.Tray.Placed) >= sandtray.MaxPlaced-10) {
		return sandtray.Action{Kind: sandtray.Move, ID: mine[g.rng.IntN(len(mine))].ID, X: x, Y: y}
	}
	return sandtray.Action{Kind: sandtray.Place, Figure: groupFigures[g.rng.IntN(len(groupFigures))], X: x, Y: y}
}

// groupRefused tells the member an action was refused (another's move
// came first, say): still their turn, they try again.
func (d *Device) groupRefused(session string, dseq int64) {
	g := d.groupState()
	g.mu.Lock()
	retry := d.GroupTray && dseq == g.last && g.mirror.MyTurn() && !g.acting
	if retry {
		g.acting = true
	}
	g.mu.Unlock()
	if retry {
		d.answer(func(ctx context.Context) { d.groupAct(ctx, session) })
	}
}

// GroupTraySeen returns the group tray as this kiosk holds it: its steps,
// its figures (id -> "figure by member") and sand, for tests to compare
// kiosks with the controller.
func (d *Device) GroupTraySeen() (seq int, placed map[int]string, sand []float64) {
	g := d.groupState()
	g.mu.Lock()
	defer g.mu.Unlock()
	placed = map[int]string{}
	if g.mirror.Tray == nil {
		return g.mirror.Seq, placed, nil
	}
	for _, p := range g.mirror.Tray.Placed {
		placed[p.ID] = p.Figure + " by " + g.mirror.Authors[p.ID]
	}
	return g.mirror.Seq, placed, append([]float64(nil), g.mirror.Tray.Sand...)
}
