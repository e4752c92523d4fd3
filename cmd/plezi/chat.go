package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// Chat is the demo chat: rooms from the path, nicknames from ?nick=,
// messages to the room, private messages by id (Unicast) and offline
// messages by nickname (Notify).
//
// Identity is settled in PreConnect, before the upgrade: a nickname is held
// by one connection on this node until it closes, so a second connection
// cannot take it over (and with it the nickname's mailbox). The demo has no
// login, so the first to come holds it; a real app reads a session cookie
// or a token in PreConnect instead, and refuses what does not check out.
type Chat struct {
	dispatch.Socket
	nicks      *nickSet // the app's, shared by its chat connections
	nick, room string
}

// PreConnect refuses a missing or malformed nickname with 400 and one held
// by another connection on this node with 409, before the upgrade.
func (c *Chat) PreConnect(r *dispatch.Request) error {
	nick := r.Query("nick")
	if !validNick(nick) {
		return errBadNick
	}
	if !c.nicks.hold(nick, c, time.Now()) {
		return errNickTaken
	}
	c.nick = nick
	return nil
}

// OnOpen greets the connection, tells the room and delivers the mailbox.
// A connection whose hold lapsed during a slow upgrade, and went to
// another, closes with 1008.
func (c *Chat) OnOpen() {
	if !c.nicks.confirm(c.nick, c) {
		c.CloseWith(1008, "nick in use")
		return
	}
	c.room = c.Params("room")
	_ = c.Emit("welcome", c.ID(), c.nick, c.room)
	_ = c.PublishEvent(c.channel(), "joined", c.nick, c.ID())
	c.Subscribe(c.channel())
	_ = c.RegisterAs("user:" + c.nick)
}

// OnClose frees the nickname and tells the room.
func (c *Chat) OnClose(int, string) {
	if c.nicks.release(c.nick, c) {
		_ = c.PublishEvent(c.channel(), "left", c.nick, c.ID())
	}
}

func (c *Chat) channel() string { return "room:" + c.room }

// Say sends text to everyone in the room, the sender included.
func (c *Chat) Say(text string) bool {
	_ = c.PublishEvent(c.channel(), "said", c.nick, text)
	return true
}

// Whisper sends text to one connection by id.
func (c *Chat) Whisper(to, text string) (bool, error) {
	if !c.Unicast(to, "private", c.nick, c.ID(), text) {
		return false, errGone
	}
	return true, nil
}

// Tell sends text to a nickname, now or when it connects again. What the
// store refuses is told the sender; any other failure (the broker is
// unreachable) is a plain error, which the client sees only as "internal
// error" with a reference that is also in the server's log.
func (c *Chat) Tell(nick, text string) (bool, error) {
	_, err := c.NotifyErr("user:"+nick, "private", c.nick, c.ID(), text)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, dispatch.ErrNotRegistered):
		return false, errUnknownUser
	case errors.Is(err, dispatch.ErrNoteTooLarge):
		return false, errTooLarge
	case errors.Is(err, dispatch.ErrMailFull):
		return false, errMailFull
	}
	return false, fmt.Errorf("chat: tell %s: %w", nick, err)
}

// Announce is a server-side event (a Multicast or Broadcast of
// "announce"): it is not among the route's ClientEvents, so a client
// calling it is answered as an unknown event.
func (c *Chat) Announce(text string) { _ = c.Emit("announced", text) }

var (
	errBadNick     = dispatch.Refuse(400, fmt.Sprintf("nick: 1 to %d letters, digits, '_', '-' or '.'", maxNick))
	errNickTaken   = dispatch.Refuse(409, "nick in use")
	errGone        = dispatch.StatusError(404, "that connection is gone")
	errUnknownUser = dispatch.StatusError(404, "unknown user")
	errTooLarge    = dispatch.StatusError(413, "message too large for a mailbox")
	errMailFull    = dispatch.StatusError(503, "mailboxes are full; try later")
)
