package grouptray

// View returns the tray now, with spotlight ("" for none).
func (t *Tray) View(spotlight string) View {
	v := View{State: t.State(), Spotlight: spotlight, Seq: len(t.steps)}
	if spotlight != "" {
		v.SpotlightSteps = t.Spotlight(spotlight)
	}
	return v
}
