package push

import (
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/plezigo/plezi/codec/event"
	"github.com/plezigo/plezi/dispatch"
)

// Close codes of /push. plezi.js does not reconnect after
// CloseDisconnected nor CloseUnsupported, and after CloseTokenExpired only
// once its getToken option gave it a new token.
const (
	// CloseDisconnected is the code /api/disconnect closes with.
	CloseDisconnected = 4001
	// CloseTokenExpired closes a connection whose token (the connection's
	// or a register's) expired without a refresh: the client must get a
	// new token before it connects again (the old one is refused).
	CloseTokenExpired = 4010
	// CloseUnsupported closes a connection that sent a binary frame.
	CloseUnsupported = 1003
)

// disconnectEvent is the server-side event /api/disconnect sends (a method
// of Push, so it never reaches a client; the API refuses it as a name).
const disconnectEvent = "push_disconnect"

// Push is the controller of one /push connection. Its callbacks run on the
// connection's worker in order (a worker route: RegisterAs may wait on
// Redis), so its fields need no lock.
type Push struct {
	dispatch.Socket
	svc    *Service
	claims *Claims             // the connection's token; nil when anonymous
	due    int64               // when claims' token expires (unix nanos, leeway included); 0 = never
	chans  map[string]struct{} // subscribed, at most svc.cfg.MaxChannels
	ids    []registered        // registered identities, at most MaxIdentities
	out    []byte              // scratch for frames, reused

	// The node's expiry heap's record of the connection (expiries.mu).
	xdue   int64 // the deadline it is watched for
	xslot  int   // heap index + 1; 0 = not watched
	xfired bool  // the deadline passed: closing, no refresh can help
}

// registered is one identity the connection joined, and when the token it
// joined with expires (0 = never).
type registered struct {
	name string
	due  int64
}

// PreConnect checks the connection's token (?token= or "Authorization:
// Bearer") when the service has a key, refusing with 401 before the
// upgrade. Without a key every connection is anonymous.
func (p *Push) PreConnect(r *dispatch.Request) error {
	if p.svc.verify == nil {
		return nil
	}
	tok := r.Query("token")
	if tok == "" {
		tok = bearer(r.Header("Authorization"))
	}
	c, err := p.svc.verify.check(tok)
	if err != nil {
		p.svc.stats.Unauthorized.Add(1)
		return dispatch.Refuse(http.StatusUnauthorized, err.Error())
	}
	p.claims = c
	return nil
}

// OnOpen sends {"event":"welcome","id":"<connection id>"}, with
// "ttl_ms" when the connection's token expires, and starts watching that.
func (p *Push) OnOpen() {
	p.due = p.claims.deadline(p.svc.cfg.JWTLeeway, time.Now())
	p.watch()
	_ = p.WriteText(welcomeFrame(p.ID(), p.ttl()))
}

// OnClose stops watching the connection's token expiry and forgets its
// identities.
func (p *Push) OnClose(int, string) {
	p.svc.expiry.set(p, 0)
	p.svc.holders.drop(p, p.ids)
}

// deadline is the earliest expiry of the connection's tokens; 0 = never.
func (p *Push) deadline() int64 {
	d := p.due
	for _, r := range p.ids {
		if r.due != 0 && (d == 0 || r.due < d) {
			d = r.due
		}
	}
	return d
}

// watch hands the deadline to the node's expiry heap; false when it passed
// already (the connection is being closed with CloseTokenExpired).
func (p *Push) watch() bool { return p.svc.expiry.set(p, p.deadline()) }

// ttl is the milliseconds until the connection's deadline; 0 = none, and
// at least 1 when there is one.
func (p *Push) ttl() int64 {
	d := p.deadline()
	if d == 0 {
		return 0
	}
	return max(1, (d-time.Now().UnixNano())/int64(time.Millisecond))
}

// OnMessage answers one client frame. A binary frame closes with 1003, a
// frame that is not a JSON event with _err_ 400 then 1007 (as on every
// JSON route); the rest is answered by event (see frame).
func (p *Push) OnMessage(m dispatch.Message) {
	if m.Binary {
		p.svc.stats.BadFrames.Add(1)
		p.CloseWith(CloseUnsupported, "text frames only")
		return
	}
	f, err := parseFrame(m.Data)
	if errors.Is(err, errFrame) {
		p.svc.stats.BadFrames.Add(1)
		p.fail(nil, http.StatusBadRequest, err.Error())
		p.CloseWith(1007, "not a JSON event")
		return
	}
	if err != nil {
		p.svc.stats.BadFrames.Add(1)
		p.fail(f.eid, http.StatusBadRequest, err.Error())
		return
	}
	p.handle(&f)
}

func (p *Push) handle(f *frame) {
	switch f.Event {
	case "subscribe":
		p.subscribe(f)
	case "unsubscribe":
		p.unsubscribe(f)
	case "publish":
		p.publish(f)
	case "register":
		p.register(f)
	case "refresh":
		p.refresh(f)
	default:
		p.fail(f.eid, http.StatusNotFound, "unknown event "+f.Event)
	}
}

// channel checks f's channel: present, within MaxName and allowed by the
// token's channels claim. It answers the refusal itself.
func (p *Push) channel(f *frame) bool {
	switch {
	case f.Channel == "" || len(f.Channel) > p.svc.cfg.MaxName:
		p.svc.stats.BadFrames.Add(1)
		p.fail(f.eid, http.StatusBadRequest, "channel: want 1 to "+itoa(p.svc.cfg.MaxName)+" bytes")
	case !p.claims.allows(f.Channel):
		p.svc.stats.Denied.Add(1)
		p.fail(f.eid, http.StatusForbidden, "channel not allowed by the token: "+f.Channel)
	default:
		return true
	}
	return false
}

func (p *Push) subscribe(f *frame) {
	if !p.channel(f) {
		return
	}
	if _, ok := p.chans[f.Channel]; !ok {
		if len(p.chans) >= p.svc.cfg.MaxChannels {
			p.svc.stats.ChannelsFull.Add(1)
			p.fail(f.eid, http.StatusTooManyRequests, "at most "+itoa(p.svc.cfg.MaxChannels)+" channels per connection")
			return
		}
		if p.chans == nil {
			p.chans = map[string]struct{}{}
		}
		p.chans[f.Channel] = struct{}{}
		p.Subscribe(f.Channel)
	}
	p.ack(f.eid, nil)
}

func (p *Push) unsubscribe(f *frame) {
	if f.Channel == "" {
		p.svc.stats.BadFrames.Add(1)
		p.fail(f.eid, http.StatusBadRequest, "channel: required")
		return
	}
	if _, ok := p.chans[f.Channel]; ok {
		delete(p.chans, f.Channel)
		p.Unsubscribe(f.Channel)
	}
	p.ack(f.eid, nil)
}

// publish sends f's data to f.Channel when the service lets clients
// publish there (ClientPublish) and the token allows the channel.
func (p *Push) publish(f *frame) {
	if !p.channel(f) {
		return
	}
	if !matchAny(p.svc.cfg.ClientPublish, f.Channel) {
		p.svc.stats.Denied.Add(1)
		p.fail(f.eid, http.StatusForbidden, "clients may not publish to "+f.Channel)
		return
	}
	p.svc.hub.Publish(f.Channel, messageFrame(f.Channel, f.Data))
	p.ack(f.eid, nil)
}

// register joins the identity in the token's "sub" (f.Token, or the
// connection's own token) and replays its mailbox after f.After.
func (p *Push) register(f *frame) {
	c, status, msg := p.registerClaims(f)
	if c == nil {
		p.fail(f.eid, status, msg)
		return
	}
	after, err := parseNoteID("after", f.After)
	if err != nil {
		p.svc.stats.BadFrames.Add(1)
		p.fail(f.eid, http.StatusBadRequest, err.Error())
		return
	}
	if !p.holds(c.Subject) && len(p.ids) >= p.svc.cfg.MaxIdentities {
		p.svc.stats.IdentitiesFull.Add(1)
		p.fail(f.eid, http.StatusTooManyRequests, "at most "+itoa(p.svc.cfg.MaxIdentities)+" identities per connection")
		return
	}
	// In the index before the store has it: a disconnect of the identity
	// from now on finds the connection.
	added := !p.holds(c.Subject)
	if added {
		p.svc.holders.add(c.Subject, p)
	}
	if err := p.RegisterAs(c.Subject, c.registerOptions(after)...); err != nil {
		if added {
			p.svc.holders.drop(p, []registered{{name: c.Subject}})
		}
		p.registerFailed(f, err)
		return
	}
	due := p.due // the connection's own token
	if c != p.claims {
		due = c.deadline(p.svc.cfg.JWTLeeway, time.Now())
	}
	if i := p.index(c.Subject); i >= 0 {
		p.ids[i].due = due
	} else {
		p.ids = append(p.ids, registered{name: c.Subject, due: due})
	}
	if !p.watch() {
		return // closing with CloseTokenExpired
	}
	p.ack(f.eid, ackData{Identity: c.Subject, TTL: p.ttl()})
}

// ackData is the data of a register or refresh ack.
type ackData struct {
	Identity string `json:"identity,omitempty"`
	// TTL is the milliseconds until the connection's earliest token
	// expires (absent: none does).
	TTL int64 `json:"ttl_ms,omitempty"`
	// Unsubscribed lists the channels a refreshed token no longer allows.
	Unsubscribed []string `json:"unsubscribed,omitempty"`
}

// refresh replaces the tokens of f.Token's subject: the connection's own
// when it has that "sub", and every registration of that identity. Their
// expiry moves to the new token's (none when it has no exp); the
// connection's channels claim becomes the new token's, and a subscription
// it no longer allows is dropped. A token that does not check out is
// refused with 401, one for a subject the connection holds no token of
// with 403; neither moves anything.
func (p *Push) refresh(f *frame) {
	v := p.svc.verify
	switch {
	case v == nil:
		p.svc.stats.Denied.Add(1)
		p.fail(f.eid, http.StatusForbidden, "refresh needs a server with a JWT key (-jwt-secret)")
		return
	case f.Token == "":
		p.svc.stats.BadFrames.Add(1)
		p.fail(f.eid, http.StatusBadRequest, "token: required")
		return
	}
	c, err := v.check(f.Token)
	if err != nil {
		p.svc.stats.RefreshRefused.Add(1)
		p.fail(f.eid, http.StatusUnauthorized, err.Error())
		return
	}
	own := p.claims != nil && p.claims.Subject == c.Subject
	if !own && (c.Subject == "" || p.index(c.Subject) < 0) {
		p.svc.stats.RefreshRefused.Add(1)
		p.fail(f.eid, http.StatusForbidden, "token: sub is not the connection's nor a registered identity")
		return
	}
	due := c.deadline(p.svc.cfg.JWTLeeway, time.Now())
	var dropped []string
	if own {
		p.claims, p.due = c, due
		dropped = p.dropDisallowed()
	}
	for i := range p.ids {
		if p.ids[i].name == c.Subject {
			p.ids[i].due = due
		}
	}
	if !p.watch() {
		p.fail(f.eid, http.StatusUnauthorized, "token expired before the refresh; the connection is closing")
		return
	}
	p.svc.stats.Refreshed.Add(1)
	if d := (ackData{TTL: p.ttl(), Unsubscribed: dropped}); d.TTL != 0 || len(d.Unsubscribed) > 0 {
		p.ack(f.eid, d)
		return
	}
	p.ack(f.eid, nil)
}

// dropDisallowed unsubscribes the channels the connection's claims no
// longer allow and returns them.
func (p *Push) dropDisallowed() []string {
	var out []string
	for ch := range p.chans {
		if !p.claims.allows(ch) {
			delete(p.chans, ch)
			p.Unsubscribe(ch)
			out = append(out, ch)
		}
	}
	sort.Strings(out)
	return out
}

// registerClaims verifies the token a register names; nil with the
// refusal when it does not check out.
func (p *Push) registerClaims(f *frame) (*Claims, int, string) {
	v := p.svc.verify
	switch {
	case v == nil:
		p.svc.stats.Denied.Add(1)
		return nil, http.StatusForbidden, "register needs a server with a JWT key (-jwt-secret)"
	case f.Token == "" && p.claims != nil:
		if p.claims.Subject == "" {
			return nil, http.StatusForbidden, "token: no sub"
		}
		return p.claims, 0, ""
	}
	c, err := v.check(f.Token)
	if err != nil {
		p.svc.stats.Denied.Add(1)
		return nil, http.StatusUnauthorized, err.Error()
	}
	if c.Subject == "" || len(c.Subject) > p.svc.cfg.MaxName {
		return nil, http.StatusForbidden, "token: sub must be 1 to " + itoa(p.svc.cfg.MaxName) + " bytes"
	}
	return c, 0, ""
}

func (p *Push) registerFailed(f *frame, err error) {
	switch {
	case errors.Is(err, dispatch.ErrReplaced), errors.Is(err, dispatch.ErrClosed):
		// closed with 4009 already (or gone)
	case errors.Is(err, dispatch.ErrTooManyIdentities):
		p.fail(f.eid, http.StatusServiceUnavailable, "identity store full")
	default:
		p.svc.cfg.Logger.Warn("push: register failed", "id", p.ID(), "err", err)
		p.fail(f.eid, http.StatusServiceUnavailable, "identity store unavailable")
	}
}

func (p *Push) holds(identity string) bool { return p.index(identity) >= 0 }

// index is identity's place in p.ids; -1 when not registered.
func (p *Push) index(identity string) int {
	for i, r := range p.ids {
		if r.name == identity {
			return i
		}
	}
	return -1
}

// OnNote writes an identity notification as {"event":"notify","id":"12",
// "identity":...,"data":...} (dispatch.NoteWriter).
func (p *Push) OnNote(identity string, n dispatch.Note) {
	name, data, ok := noteData(n.Data)
	if !ok {
		return
	}
	p.out = notifyFrame(p.out[:0], identity, n.ID, n.Gap, name, data)
	_ = p.WriteText(p.out)
	p.trim()
}

// PushDisconnect closes the connection with CloseDisconnected: always
// when identity is "" (/api/disconnect by id), else when it registered
// identity (what nodes before the identity index broadcast). Server-side
// only: the route takes no client events.
func (p *Push) PushDisconnect(identity string) {
	if identity == "" || p.holds(identity) {
		p.CloseWith(CloseDisconnected, "disconnected by the server")
	}
}

func (p *Push) ack(eid []byte, data any) {
	if eid == nil {
		return
	}
	b, err := event.AppendAck(p.out[:0], eid, data, data != nil)
	if err == nil {
		p.out = b
		_ = p.WriteText(b)
	}
	p.trim()
}

func (p *Push) fail(eid []byte, status int, msg string) {
	p.out = event.AppendError(p.out[:0], eid, status, msg)
	_ = p.WriteText(p.out)
	p.trim()
}

// trim drops a scratch buffer grown past 4 KiB, so an idle connection
// keeps no large one.
func (p *Push) trim() {
	if cap(p.out) > 4<<10 {
		p.out = nil
	}
}
