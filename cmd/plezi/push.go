package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// startPush mounts the push server (/push and /api) on srv, before Run,
// and runs its start-up log and cluster stats until ctx ends. key is its
// API key, configured or generated; stop ends them and waits.
func startPush(ctx context.Context, srv *server.Server, o *options, log *slog.Logger) (key string, stop func(), err error) {
	cfg, err := o.push.config(log)
	if err != nil {
		return "", nil, err
	}
	svc, err := push.Mount(srv, cfg)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := svc.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("push: stopped", "err", err)
		}
	}()
	key, _ = svc.APIKey()
	return key, func() { cancel(); wg.Wait() }, nil
}

// config is the push.Config the settings ask for.
func (p *pushOptions) config(log *slog.Logger) (push.Config, error) {
	cfg := push.Config{
		APIKey: p.apiKey, JWTAudience: p.jwtAudience, JWTIssuer: p.jwtIssuer,
		ClientPublish: p.globs(), Logger: log,
	}
	if p.jwtSecret != "" {
		cfg.JWTSecret = []byte(p.jwtSecret)
	}
	if p.jwtPublicKey != "" {
		b, err := os.ReadFile(p.jwtPublicKey)
		if err != nil {
			return cfg, fmt.Errorf("-jwt-public-key: %w", err)
		}
		cfg.JWTPublicKey = b
	}
	return cfg, nil
}
