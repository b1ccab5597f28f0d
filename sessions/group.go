package sessions

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"waystation/internal/platform/auth"
	"waystation/internal/platform/sqlite"
	"waystation/internal/platform/waystation"
)

// GroupCode is the client_code a group session is stored under: a
// pseudo-client no client can be (CheckCode refuses the underscore). Its
// members are in session_members; the Session a reader gets has an empty
// Client and the members in Clients.
const GroupCode = "_GROUP"

// MinMembers and MaxMembers bound a group.
const (
	MinMembers = 2
	MaxMembers = 12
)

// Group reports whether s is a group session.
func (s Session) Group() bool { return len(s.Clients) > 0 }

// MemberOf returns the member a station is assigned to in a group session
// ("" when the station is shared, or s is not a group).
func (s Session) MemberOf(device string) string {
	for code, d := range s.Members {
		if d == device {
			return code
		}
	}
	return ""
}

// HasMember reports whether code is one of a group session's members.
func (s Session) HasMember(code string) bool {
	return slices.ContainsFunc(s.Clients, func(c string) bool { return strings.EqualFold(c, code) })
}

// group checks a new group's members and the stations assigned to them
// (device ids of the session's stations, resolved already), and returns
// the members' codes as stored, in the order given, with the highest of
// their risk tiers.
func (e *Engine) group(ctx context.Context, ns NewSession, stations []string) (codes []string, members map[string]string, risk Risk, err error) {
	if ns.Client != "" {
		return nil, nil, "", waystation.Errorf(waystation.EINVALID, "give \"client\" for one client or \"clients\" for a group, not both")
	}
	if ns.Staff {
		return nil, nil, "", waystation.Errorf(waystation.EINVALID, "a staff session has no clients")
	}
	if len(ns.Clients) < MinMembers || len(ns.Clients) > MaxMembers {
		return nil, nil, "", waystation.Errorf(waystation.EINVALID, "a group has %d to %d members (clients), got %d", MinMembers, MaxMembers, len(ns.Clients))
	}
	risk = Low
	canonical := map[string]string{} // as given, folded -> as stored
	for _, c := range ns.Clients {
		cl, err := e.Clients.GetClient(ctx, c)
		if err != nil {
			return nil, nil, "", err
		}
		if _, dup := canonical[strings.ToLower(cl.Code)]; dup {
			return nil, nil, "", waystation.Errorf(waystation.EINVALID, "client %s is listed twice in the group", cl.Code)
		}
		canonical[strings.ToLower(cl.Code)] = cl.Code
		codes = append(codes, cl.Code)
		if riskRank[cl.Risk] > riskRank[risk] {
			risk = cl.Risk
		}
	}
	members = map[string]string{}
	taken := map[string]string{} // device -> member
	keys := make([]string, 0, len(ns.Members))
	for c := range ns.Members {
		keys = append(keys, c)
	}
	sort.Strings(keys)
	for _, c := range keys {
		code, ok := canonical[strings.ToLower(c)]
		if !ok {
			return nil, nil, "", waystation.Errorf(waystation.EINVALID, "members: %s is not one of the group's clients", c)
		}
		d, err := e.registry.Get(ctx, ns.Members[c])
		if err != nil {
			return nil, nil, "", waystation.Errorf(waystation.ErrorCode(err), "members: %s: %s", c, waystation.ErrorMessage(err))
		}
		if !slices.Contains(stations, d.ID) {
			return nil, nil, "", waystation.Errorf(waystation.EINVALID, "members: %s's station %s is not one of the session's stations", code, d.ID)
		}
		if other, ok := taken[d.ID]; ok {
			return nil, nil, "", waystation.Errorf(waystation.EINVALID, "members: station %s is assigned to both %s and %s (leave a shared station out of members)", d.ID, other, code)
		}
		taken[d.ID] = code
		members[code] = d.ID
	}
	return codes, members, risk, nil
}

// riskRank orders the risk tiers.
var riskRank = map[Risk]int{Low: 0, Medium: 1, High: 2}

// groupConsent refuses a group whose members lack consent for what the
// session records, naming each member and what they lack.
func (e *Engine) groupConsent(ctx context.Context, s Session) error {
	_, missing, err := e.MembersConsent(ctx, s)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	var parts []string
	for _, c := range s.Clients {
		if m := missing[c]; len(m) > 0 {
			parts = append(parts, fmt.Sprintf("%s (%s)", c, strings.Join(m, ", ")))
		}
	}
	return waystation.Errorf(waystation.ECONFLICT, "members without consent on file for what this session records: %s (record it with POST /v1/clients/{code}/consents)", strings.Join(parts, "; "))
}

// MembersConsent returns what a group session records and, by member,
// what each has no consent on file for (members lacking nothing are left
// out).
func (e *Engine) MembersConsent(ctx context.Context, s Session) (records []string, missing map[string][]string, err error) {
	records, missing = e.RequiredScopes(ctx, s), map[string][]string{}
	for _, c := range s.Clients {
		m, err := e.missingConsent(ctx, c, records)
		if err != nil {
			return nil, nil, err
		}
		if len(m) > 0 {
			missing[c] = m
		}
	}
	return records, missing, nil
}

// addGroupClient makes sure the group pseudo-client exists (created by
// the first group session, in its transaction).
func addGroupClient(tx *sql.Tx, by auth.User, now time.Time) error {
	if _, err := tx.Exec(`INSERT INTO clients (code, risk, created, created_by) VALUES (?, 'low', ?, ?) ON CONFLICT (code) DO NOTHING`,
		GroupCode, sqlite.FormatTime(now), by.ID); err != nil {
		return fmt.Errorf("group session: %w", err)
	}
	return nil
}

// storeMembers writes a new group session's members, in its transaction.
func storeMembers(tx *sql.Tx, s Session) error {
	for i, c := range s.Clients {
		var dev any
		if d, ok := s.Members[c]; ok {
			dev = d
		}
		if _, err := tx.Exec(`INSERT INTO session_members (session_id, client_code, device_id, position) VALUES (?, ?, ?, ?)`, s.ID, c, dev, i); err != nil {
			return fmt.Errorf("group session: member %s: %w", c, err)
		}
	}
	return nil
}

// loadMembers fills in a group session read from the store: its members,
// their stations, and the highest of their risk tiers.
func (e *Engine) loadMembers(ctx context.Context, s *Session) error {
	if s.Client != GroupCode {
		return nil
	}
	s.Client, s.Risk, s.Members = "", Low, map[string]string{}
	rows, err := e.db.R.QueryContext(ctx, `SELECT m.client_code, COALESCE(m.device_id, ''), c.risk FROM session_members m JOIN clients c ON c.code = m.client_code
		WHERE m.session_id = ? ORDER BY m.position`, s.ID)
	if err != nil {
		return fmt.Errorf("members of %s: %w", s.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, dev, risk string
		if err := rows.Scan(&code, &dev, &risk); err != nil {
			return fmt.Errorf("members of %s: %w", s.ID, err)
		}
		s.Clients = append(s.Clients, code)
		if dev != "" {
			s.Members[code] = dev
		}
		if riskRank[Risk(risk)] > riskRank[s.Risk] {
			s.Risk = Risk(risk)
		}
	}
	return rows.Err()
}
