#!/usr/bin/env python3
"""Publish to a channel and notify an identity through the Plezi push
server's HTTP API, with the Python standard library only.

    PLEZI_API_KEY=... python3 examples/push.py [base-url]

base-url defaults to $PLEZI_URL or http://localhost:3000/api; the key is the
one cmd/plezi was started with (-api-key, PL_API_KEY) or the one it logged.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def call(base, key, endpoint, body):
    """POSTs body (JSON) to base/endpoint and returns the decoded answer.
    An HTTP error raises with the server's JSON error in the message."""
    req = urllib.request.Request(
        base.rstrip("/") + "/" + endpoint,
        data=json.dumps(body).encode(),
        headers={"X-API-Key": key, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{endpoint}: HTTP {e.code}: {e.read().decode()}")


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PLEZI_URL", "http://localhost:3000/api")
    key = os.environ.get("PLEZI_API_KEY")
    if not key:
        raise SystemExit("set PLEZI_API_KEY to the server's API key")

    # Every subscriber of "news" reads {"event":"message","channel":"news","data":{...}}.
    print("publish:", call(base, key, "publish", {"channel": "news", "data": {"title": "hello from Python"}}))

    # The identity "ann" (a token's "sub") gets {"event":"notify","id":"<n>","identity":"ann",...}
    # now, or when it registers again; "registered" is false when it never registered.
    answer = call(base, key, "notify", {"identity": "ann", "event": "invoice", "data": {"amount": 42}})
    print("notify:", answer)
    if not answer.get("registered"):
        print("ann is not registered (or has expired): nothing was stored")


if __name__ == "__main__":
    main()
