package main

import (
	"github.com/plezigo/plezi/dispatch"
)

// Chat is the demo chat: rooms from the path, nicknames from ?nick=,
// messages to the room, private messages by id (Unicast) and offline
// messages by nickname (Notify).
type Chat struct {
	dispatch.Socket
	nick, room string
}

// PreConnect refuses connections without a nickname.
func (c *Chat) PreConnect(r *dispatch.Request) error {
	if r.Query("nick") == "" {
		return dispatch.Refuse(400, "nick is required")
	}
	return nil
}

// OnOpen greets the connection, tells the room and delivers the mailbox.
func (c *Chat) OnOpen() {
	c.nick, c.room = c.Request().Query("nick"), c.Params("room")
	_ = c.Emit("welcome", c.ID(), c.nick, c.room)
	_ = c.PublishEvent(c.channel(), "joined", c.nick, c.ID())
	c.Subscribe(c.channel())
	_ = c.RegisterAs("user:"+c.nick, dispatch.MaxConnections(5))
}

// OnClose tells the room.
func (c *Chat) OnClose(int, string) {
	_ = c.PublishEvent(c.channel(), "left", c.nick, c.ID())
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

// Tell sends text to a nickname, now or when it connects again.
func (c *Chat) Tell(nick, text string) (bool, error) {
	if !c.Notify("user:"+nick, "private", c.nick, c.ID(), text) {
		return false, errUnknownUser
	}
	return true, nil
}

var (
	errGone        = dispatch.StatusError(404, "that connection is gone")
	errUnknownUser = dispatch.StatusError(404, "unknown user")
)
