package browser

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

func TestOpenEval(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	addr, stop := serve(t, "<title>t</title>")
	defer stop()
	ctx, cancel, err := Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	tab, closeTab, err := Open(ctx, "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer closeTab()

	cases := []struct {
		name    string
		expr    string
		want    int
		wantErr bool
	}{
		{"value", `6 * 7`, 42, false},
		{"promise", `new Promise(r => setTimeout(() => r(5), 1))`, 5, false},
		{"until", `(() => { let n = 0; return T.until(() => ++n >= 3 && n); })()`, 3, false},
		{"settle rejection", `T.settle(Promise.reject(Object.assign(new Error('no'), {status: 418}))).then(r => r.status)`, 418, false},
		{"until deadline", `T.until(() => false, 20)`, 0, true},
		{"rejected", `Promise.reject(new Error('boom'))`, 0, true},
		{"exception", `(() => { throw new Error('boom'); })()`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Eval[int](tab, tc.expr)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Eval(%s) = %d, %v; want %d, error %v", tc.expr, got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, _, err := Open(ctx, "http://127.0.0.1:1/"); err == nil {
		t.Fatal("Open of a refused url succeeded")
	}
}
