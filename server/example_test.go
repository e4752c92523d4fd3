package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Greeter is a controller: one instance per connection. Its exported
// method Hello is an event, called with arguments decoded from JSON; the
// route lets clients call it (ClientEvents).
type Greeter struct{ dispatch.Socket }

// Hello answers the client's event; the return value is the ack's data.
func (g *Greeter) Hello(name string) string { return "hello, " + name }

func Example() {
	srv := server.New(server.Config{
		Addr:   "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := srv.Route("/greet", func() dispatch.Controller { return new(Greeter) }, dispatch.ClientEvents("hello")); err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready()

	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/greet", nil)
	if err != nil {
		panic(err)
	}
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"event":"hello","_EID_":1,"args":["ann"]}`))
	_, reply, _ := c.ReadMessage()
	fmt.Println(string(reply))

	_ = c.Close()
	stop()
	<-done
	// Output: {"event":"_ack_","_EID_":1,"data":"hello, ann"}
}
