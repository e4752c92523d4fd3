/*!
 * plezi.js — the browser client of Plezi for Go. No dependencies, no build
 * step: load it with <script src="/plezi.js"></script> and use window.Plezi.
 *
 *   const chat = new Plezi('/chat/lobby?nick=ann');
 *   chat.on('said', (nick, text) => show(nick + ': ' + text));
 *   chat.on('close', (code, reason) => console.log('closed', code, reason));
 *   const ok = await chat.emit('say', 'hello');   // the ack's data
 *
 * Wire protocol (JSON text frames):
 *   client → server  {"event":"name","_EID_":id,"args":[...]}
 *   ack              {"event":"_ack_","_EID_":id,"data":...}
 *   error            {"event":"_err_","_EID_":id,"status":N,"error":"text"}
 *   push             {"event":"name","args":[...]}
 *   notification     a push with "_NID_":n and "_identity":"user:x" (and
 *                    "_gap_":missed on the first one after dropped ones)
 *
 * Handlers. on(event, fn) calls fn(...msg.args) when the message has an args
 * array and fn(msg) otherwise; `this` is the whole message. Frames that are
 * not a JSON object with an "event" (raw routes such as /echo, binary
 * frames) go to the "message" handlers as fn(data), data a string or an
 * ArrayBuffer. Special events, with `this` the client: "open"(),
 * "close"(code, reason) each time a connection ends, "reconnecting"(attempt,
 * delayMs) when a reconnect is scheduled, "error"(event) on socket errors,
 * "gap"(identity, missed) just before a notification that carries
 * "_gap_":missed — the server's mailbox for identity was full and dropped
 * that many older notifications this client never got.
 *
 * emit(event, ...args) returns a Promise of the ack's data. It rejects with
 * an Error carrying .status and .code:
 *   server _err_        .status = the server's status, .code = 'server'
 *   no ack in time      .status = 408, .code = 'timeout' (opts.timeout ms)
 *   connection lost     .status = 0,   .code = 'disconnected' (the server
 *                       may or may not have run the event)
 *   queue full          .status = 0,   .code = 'queue_full'
 *   client closed       .status = 0,   .code = 'closed'
 * While disconnected, emit() and send() queue their frames (at most
 * opts.queue of them, default 256) and write them in order on the next open;
 * past the bound emit rejects at once and send returns false. A queued emit
 * still times out opts.timeout ms after the call, and is then dropped from
 * the queue unsent.
 *
 * Reconnects use full-jitter exponential backoff: attempt n waits a random
 * delay in [0, min(cap, base * 2^(n-1))), base 250 ms, cap 10 s; n goes back
 * to 1 only after a connection stayed open opts.stableAfter ms (5 s), so a
 * server that accepts and drops at once is not hammered. Reconnects stop
 * after close(), and after close codes 1008 (policy), 4009 (replaced: the
 * identity opened too many connections), 4001–4003, 4401 and 4403 (auth),
 * and 4010 (token expired) unless opts.getToken is set (see below).
 * close() makes state 'closed' at once; the "close" event follows when the
 * socket has closed.
 *
 * Mailbox resume. For every notification the client remembers, per
 * _identity, the id up to which it has seen every notification (the first
 * one it ever sees counts as the start) and the ids it has seen above that
 * (at most 256; past that the oldest gap is given up), in memory and in
 * localStorage under "plezi:lastSeen:" + the url's path. It adds
 * _resume=<encodeURIComponent(JSON {identity: id})> with that contiguous id
 * to the url of every connection once it has one, so the server replays
 * every mailbox entry the client may have missed. A notification is not
 * delivered to handlers again when its id was seen; one that arrives after
 * a higher id (two notifiers racing) is delivered. Ids are uint64: they
 * are compared as BigInt and kept as decimal strings, so ids above 2^53
 * stay exact.
 *
 * The push server (/push of cmd/plezi). Its frames are JSON too:
 *   welcome     {"event":"welcome","id":"<connection id>"}   → client.id
 *               (with "ttl_ms" when the token expires)
 *   message     {"event":"message","channel":"news","data":...}
 *   notify      {"event":"notify","id":"12","identity":"bob","data":...}
 * and the client has methods for it:
 *
 *   const p = new Plezi('/push', {token: jwt});     // ?token=jwt
 *   await p.subscribe('news', (data, channel) => show(data));
 *   p.on('message', (data, channel) => ...);         // every channel
 *   p.on('notify', (data, msg) => ...);              // msg.id, msg.identity, msg.name
 *   await p.register(jwt);                           // resolves {identity}
 *   await p.publish('chat:1', {text: 'hi'});         // if the server allows it
 *   await p.unsubscribe('news');
 *   await p.refresh(newJwt);                         // same sub, before the old one expires
 *
 * After a reconnect the client subscribes again to its channels and
 * registers again with its tokens, with "after" set to the id up to which
 * it saw every notification of that identity (kept like _NID_ ids above,
 * in localStorage too), so the server replays only what it missed; repeats
 * are not delivered. Close code 4001 (the server's /api/disconnect) is
 * final.
 *
 * Token expiry. The server closes a connection with 4010 once one of its
 * tokens (opts.token, a register's) expires, and says when in "ttl_ms"
 * (welcome, register and refresh acks). With opts.getToken, a function
 * (sub) → a Promise of a new JWT for that "sub" (or the JWT itself), the
 * client refreshes by itself: when a fifth of the ttl is left (at most
 * 30 s before, at least 1 s after the last), it asks getToken for each
 * subject whose token has an "exp" and sends each as a refresh; after a
 * 4010, or before a reconnect when a token's exp passed by the browser's
 * clock, it asks again and connects only with the new tokens (a failing
 * getToken is retried with the reconnect backoff; one that gives no token
 * closes the client). The new tokens replace the old ones of the same sub
 * (opts.token and ?token= too) for reconnects and registers. Without
 * getToken 4010 is final. Declarations for TypeScript: /plezi.d.ts.
 */
(function (root) {
  'use strict';

  var DEFAULTS = {
    timeout: 5000,       // ms before an emit without ack rejects
    queue: 256,          // frames kept while disconnected
    reconnect: true,     // reconnect after an unexpected close
    backoffBase: 250,    // ms, first reconnect window
    backoffCap: 10000,   // ms, largest reconnect window
    stableAfter: 5000,   // ms a connection must stay open to reset the backoff
    resume: true,        // send _resume and de-duplicate notifications
    protocols: undefined, // websocket sub-protocols
    token: undefined,    // a JWT for the push server, sent as ?token=
    getToken: undefined  // push: sub => Promise of a new JWT for sub (refresh, and after 4010)
  };

  // Close codes after which reconnecting cannot help.
  // 4001: /api/disconnect; 4010: token expired (final only without getToken).
  var FINAL_CODES = { 1008: 1, 4001: 1, 4002: 1, 4003: 1, 4009: 1, 4010: 1, 4401: 1, 4403: 1 };
  var TOKEN_EXPIRED = 4010;

  var STORAGE_PREFIX = 'plezi:lastSeen:';
  var SEEN_WINDOW = 256; // ids remembered above the contiguous one, per identity
  var NID_PATTERN = /"_NID_"\s*:\s*(\d+)/g;

  // ---- URLs --------------------------------------------------------------

  // toSocketURL resolves url against the page and maps http(s) to ws(s).
  function toSocketURL(url) {
    var base = root.location ? root.location.href : undefined;
    var u = new URL(url, base);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    return u;
  }

  // withResume returns href with its _resume parameter replaced by json
  // (dropped when json is empty), encoded with encodeURIComponent.
  function withResume(u, json) {
    var kept = u.search.replace(/^\?/, '').split('&').filter(function (p) {
      return p !== '' && p.split('=')[0] !== '_resume';
    });
    if (json) kept.push('_resume=' + encodeURIComponent(json));
    var v = new URL(u.href);
    v.search = kept.length ? '?' + kept.join('&') : '';
    return v.href;
  }

  // ---- notification ids --------------------------------------------------

  // nidOf returns the message's _NID_ as a decimal string, exact even when
  // JSON.parse rounded it (ids above 2^53), or '' when it has none.
  function nidOf(msg, raw) {
    var n = msg._NID_;
    if (typeof n === 'string' && /^\d+$/.test(n)) return n;
    if (typeof n !== 'number' || !(n >= 0)) return '';
    if (Number.isSafeInteger(n)) return String(n);
    var found = '', m;
    NID_PATTERN.lastIndex = 0;
    while ((m = NID_PATTERN.exec(raw)) !== null) {
      if (Number(m[1]) === n) found = m[1];
    }
    return found || BigInt(n).toString();
  }

  function cmpNID(a, b) {
    var x = BigInt(a), y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  // seeNID records nid (a decimal string) in st and reports whether it is
  // new. st.f: every id up to it was seen; st.s: the ids seen above it,
  // ascending. Past SEEN_WINDOW of those the oldest gap is given up.
  function seeNID(st, nid) {
    if (cmpNID(nid, st.f) <= 0 || st.s.indexOf(nid) >= 0) return false;
    st.s.push(nid);
    st.s.sort(cmpNID);
    absorb(st);
    return true;
  }

  // absorb moves st.f over the ids of st.s now contiguous with it, and
  // over the oldest gap while more than SEEN_WINDOW ids wait above it.
  function absorb(st) {
    st.s = st.s.filter(function (n) { return cmpNID(n, st.f) > 0; });
    while (st.s.length && (BigInt(st.s[0]) === BigInt(st.f) + BigInt(1) || st.s.length > SEEN_WINDOW)) {
      st.f = st.s.shift();
    }
  }

  // resumeJSON writes {identity: id, ...} with the contiguous ids as bare
  // numbers.
  function resumeJSON(seen) {
    var parts = Object.keys(seen).map(function (id) {
      return JSON.stringify(id) + ':' + seen[id].f;
    });
    return parts.length ? '{' + parts.join(',') + '}' : '';
  }

  // ---- localStorage (optional: private modes and file:// may throw) ------

  // Stored per identity: "f" when nothing above it was seen, else
  // ["f", ids above...]. A bare string is also what older clients stored.
  function loadSeen(key) {
    try {
      var v = JSON.parse(root.localStorage.getItem(key) || '{}');
      var out = {};
      Object.keys(v).forEach(function (id) {
        var list = (Array.isArray(v[id]) ? v[id] : [v[id]]).map(String).filter(function (n) {
          return /^\d+$/.test(n);
        });
        if (!list.length) return;
        var st = { f: BigInt(list[0]).toString(), s: [] };
        list.slice(1, SEEN_WINDOW + 1).forEach(function (n) { seeNID(st, BigInt(n).toString()); });
        out[id] = st;
      });
      return out;
    } catch (e) {
      return {};
    }
  }

  // saveSeen merges seen into what other tabs stored: an id seen by any
  // of them counts as seen.
  function saveSeen(key, seen) {
    try {
      var all = loadSeen(key), out = {};
      Object.keys(seen).forEach(function (id) {
        var mine = seen[id], theirs = all[id];
        if (!theirs) {
          all[id] = { f: mine.f, s: mine.s.slice() };
          return;
        }
        if (cmpNID(mine.f, theirs.f) > 0) theirs.f = mine.f;
        mine.s.forEach(function (n) { seeNID(theirs, n); });
        absorb(theirs);
      });
      Object.keys(all).forEach(function (id) {
        out[id] = all[id].s.length ? [all[id].f].concat(all[id].s) : all[id].f;
      });
      root.localStorage.setItem(key, JSON.stringify(out));
    } catch (e) { /* storage unavailable: memory only */ }
  }

  // ---- errors ------------------------------------------------------------

  function pleziError(message, status, code) {
    var err = new Error(message);
    err.name = 'PleziError';
    err.status = status;
    err.code = code;
    return err;
  }

  function report(err) {
    if (typeof root.reportError === 'function') root.reportError(err);
    else setTimeout(function () { throw err; });
  }

  // ---- the client --------------------------------------------------------

  /**
   * new Plezi(url, opts) connects at once. url may be relative ("/chat/x"),
   * http(s):// or ws(s)://. opts: see DEFAULTS.
   */
  function Plezi(url, opts) {
    if (!(this instanceof Plezi)) return new Plezi(url, opts);
    this.opts = Object.assign({}, DEFAULTS, opts || {});
    this._url = toSocketURL(url);
    if (this.opts.token) this._url.searchParams.set('token', this.opts.token);
    this._storageKey = STORAGE_PREFIX + this._url.pathname;
    this._handlers = Object.create(null);
    this._pending = new Map();  // eid → {resolve, reject, timer}
    this._outbox = [];          // {data, eid} while not open
    this._eid = 0;
    this._seen = this.opts.resume ? loadSeen(this._storageKey) : {};
    this._attempt = 0;
    this._timer = null;
    this._delay = 0;
    this._openedAt = 0;
    this._ws = null;
    this._closed = false;
    this._state = 'connecting';
    this._channels = new Map(); // push: channel → handlers, subscribed again after a reconnect
    this._tokens = [];          // push: tokens registered, registered again after a reconnect
    this._refreshTimer = null;  // push: refreshes the tokens before the server's deadline
    this._needToken = false;    // push: closed with 4010; get new tokens before connecting
    this._opens = 0;
    this.id = '';               // push: the connection id of the welcome
    this._connect();
  }

  Object.defineProperties(Plezi.prototype, {
    // state: 'connecting' | 'open' | 'reconnecting' (waiting to retry) | 'closed'
    state: { get: function () { return this._state; } },
    // url: the websocket url of the current (or next) connection, _resume included
    url: { get: function () { return this._ws ? this._ws.url : this._socketURL(); } },
    // lastSeen: {identity: the id up to which every notification was seen
    // (decimal string)}, what _resume sends
    lastSeen: {
      get: function () {
        var seen = this._seen, out = {};
        Object.keys(seen).forEach(function (id) { out[id] = seen[id].f; });
        return out;
      }
    }
  });

  /** on adds a handler for event; returns this. */
  Plezi.prototype.on = function (event, fn) {
    if (typeof fn !== 'function') throw new TypeError('Plezi.on: handler must be a function');
    (this._handlers[event] || (this._handlers[event] = [])).push(fn);
    return this;
  };

  /** off removes one handler, or all of event's handlers without fn; returns this. */
  Plezi.prototype.off = function (event, fn) {
    var list = this._handlers[event];
    if (!list) return this;
    if (fn === undefined) delete this._handlers[event];
    else this._handlers[event] = list.filter(function (h) { return h !== fn; });
    return this;
  };

  /** emit sends an event and returns a Promise of the ack's data (see the header). */
  Plezi.prototype.emit = function (event, ...args) {
    var self = this;
    if (this._closed) return Promise.reject(pleziError('plezi: client closed', 0, 'closed'));
    var eid = ++this._eid;
    var frame = JSON.stringify({ event: String(event), _EID_: eid, args: args });
    return new Promise(function (resolve, reject) {
      if (!self._write(frame, eid)) {
        reject(pleziError('plezi: send queue full', 0, 'queue_full'));
        return;
      }
      var timer = setTimeout(function () {
        self._pending.delete(eid);
        self._outbox = self._outbox.filter(function (f) { return f.eid !== eid; });
        reject(pleziError('plezi: no ack for "' + event + '" within ' + self.opts.timeout + ' ms', 408, 'timeout'));
      }, self.opts.timeout);
      self._pending.set(eid, { resolve: resolve, reject: reject, timer: timer, sent: self._state === 'open' });
    });
  };

  /**
   * send writes a raw frame: a string as text, an ArrayBuffer (or a view,
   * or a Blob) as binary. Returns false when the frame was dropped (queue
   * full or client closed), true when it was written or queued.
   */
  Plezi.prototype.send = function (data) {
    if (this._closed) return false;
    return this._write(data, 0);
  };

  // ---- the push server (/push) ------------------------------------------

  /**
   * subscribe joins channel (fn, if given, gets (data, channel) for each of
   * its messages) and resolves once the server acked it; after a reconnect
   * the client subscribes again by itself.
   */
  Plezi.prototype.subscribe = function (channel, fn) {
    channel = String(channel);
    var list = this._channels.get(channel) || [];
    if (typeof fn === 'function') list.push(fn);
    this._channels.set(channel, list);
    return this._request({ event: 'subscribe', channel: channel });
  };

  /** unsubscribe leaves channel (and drops its handlers). */
  Plezi.prototype.unsubscribe = function (channel) {
    channel = String(channel);
    this._channels.delete(channel);
    return this._request({ event: 'unsubscribe', channel: channel });
  };

  /** publish sends data to channel's subscribers, where the server lets clients publish. */
  Plezi.prototype.publish = function (channel, data) {
    return this._request({ event: 'publish', channel: String(channel), data: data === undefined ? null : data });
  };

  /**
   * register joins the identity in token's "sub" and receives its
   * notifications, the ones it missed first; resolves with {identity}.
   * Without a token it uses the connection's (opts.token). After a
   * reconnect the client registers again, resuming after what it saw.
   */
  Plezi.prototype.register = function (token) {
    token = token === undefined ? this.opts.token : token;
    if (this._tokens.indexOf(token) < 0) this._tokens.push(token);
    return this._request(this._registerFrame(token));
  };

  /**
   * refresh hands the server a new token before the old one of the same
   * "sub" expires (the connection's and the registrations'); on the ack
   * the client uses it from then on (reconnects, registers). Resolves with
   * the ack's data ({ttl_ms} while a token still expires). With
   * opts.getToken the client does this by itself.
   */
  Plezi.prototype.refresh = function (token) {
    var self = this;
    token = String(token);
    return this._request({ event: 'refresh', token: token }).then(function (data) {
      self._replaceToken(token);
      if (data && Array.isArray(data.unsubscribed)) {
        data.unsubscribed.forEach(function (ch) { self._channels.delete(ch); });
      }
      return data;
    });
  };

  // _replaceToken puts token in place of the tokens with its "sub": the
  // connection's (opts.token, ?token=) and the registered ones.
  Plezi.prototype._replaceToken = function (token) {
    var sub = subjectOf(token);
    if (this.opts.token && subjectOf(this.opts.token) === sub) {
      this.opts.token = token;
      this._url.searchParams.set('token', token);
    }
    var out = [];
    this._tokens.forEach(function (t) {
      t = t && subjectOf(t) === sub ? token : t;
      if (out.indexOf(t) < 0) out.push(t);
    });
    this._tokens = out;
  };

  // _newTokens asks opts.getToken for a new token for each subject that
  // holds a token with an "exp" and puts them in place. It resolves with
  // them; rejects when getToken failed, resolves null when it gave none
  // (the application ends the session).
  Plezi.prototype._newTokens = function () {
    var self = this, subs = [];
    [this.opts.token].concat(this._tokens).forEach(function (t) {
      if (t && claimsOf(t).exp !== undefined && subs.indexOf(subjectOf(t)) < 0) subs.push(subjectOf(t));
    });
    return Promise.all(subs.map(function (sub) {
      return Promise.resolve().then(function () { return self.opts.getToken(sub); });
    })).then(function (tokens) {
      if (tokens.some(function (t) { return !t; })) return null;
      return tokens.map(String);
    });
  };

  // _expired reports whether getToken is set and a token's "exp" passed
  // by this browser's clock (a reconnect would be refused with it).
  Plezi.prototype._expired = function () {
    if (typeof this.opts.getToken !== 'function') return false;
    var now = Date.now() / 1000;
    return [this.opts.token].concat(this._tokens).some(function (t) {
      var exp = t ? claimsOf(t).exp : undefined;
      return typeof exp === 'number' && exp < now;
    });
  };

  // _ttl arms the refresh for the server's deadline: ttl ms from now
  // (none: nothing expires). It refreshes when a fifth of the time is
  // left, at most 30 s before, and not sooner than 1 s from now.
  Plezi.prototype._ttl = function (ttl) {
    var self = this;
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (typeof ttl !== 'number' || !(ttl > 0) || typeof this.opts.getToken !== 'function' || this._closed) return;
    var delay = Math.max(1000, ttl - Math.min(30000, ttl / 5));
    this._refreshTimer = setTimeout(function () {
      self._refreshTimer = null;
      self._newTokens().then(function (tokens) {
        if (tokens === null) return self.close(1000, 'no token');
        tokens.forEach(function (t) { self.refresh(t).catch(report); });
      }, report);
    }, delay);
  };

  Plezi.prototype._registerFrame = function (token) {
    var f = { event: 'register' };
    if (token) f.token = String(token);
    var st = this._seen[subjectOf(token || this.opts.token)];
    if (st) f.after = st.f;
    return f;
  };

  // _request sends a push frame with an _EID_ and returns a Promise of its
  // ack. The ack of a register or refresh arms the token refresh.
  Plezi.prototype._request = function (frame) {
    var self = this;
    if (this._closed) return Promise.reject(pleziError('plezi: client closed', 0, 'closed'));
    var eid = ++this._eid;
    frame._EID_ = eid;
    return new Promise(function (settle, reject) {
      var resolve = function (data) {
        if (frame.event === 'register' || frame.event === 'refresh') self._ttl(data && data.ttl_ms);
        settle(data);
      };
      if (!self._write(JSON.stringify(frame), eid)) {
        reject(pleziError('plezi: send queue full', 0, 'queue_full'));
        return;
      }
      var timer = setTimeout(function () {
        self._pending.delete(eid);
        self._outbox = self._outbox.filter(function (f) { return f.eid !== eid; });
        reject(pleziError('plezi: no ack for "' + frame.event + '" within ' + self.opts.timeout + ' ms', 408, 'timeout'));
      }, self.opts.timeout);
      self._pending.set(eid, { resolve: resolve, reject: reject, timer: timer, sent: self._state === 'open' });
    });
  };

  // _restore subscribes and registers again after a reconnect (no acks
  // awaited: a refusal arrives as an "_err_" event; a register's ack only
  // arms the token refresh).
  Plezi.prototype._restore = function () {
    var self = this;
    this._channels.forEach(function (_, channel) {
      self._ws.send(JSON.stringify({ event: 'subscribe', channel: channel }));
    });
    this._tokens.forEach(function (token) {
      var f = self._registerFrame(token), eid = ++self._eid;
      f._EID_ = eid;
      self._pending.set(eid, { quiet: true, sent: true, resolve: function (d) { self._ttl(d && d.ttl_ms); }, reject: function () {} });
      self._ws.send(JSON.stringify(f));
    });
  };

  // subjectOf reads a JWT's "sub" without verifying it (the server does):
  // the identity whose last seen id "after" reports.
  function subjectOf(token) {
    var sub = claimsOf(token).sub;
    return typeof sub === 'string' ? sub : '';
  }

  // claimsOf decodes a JWT's claims without verifying them ({} when it
  // does not decode).
  function claimsOf(token) {
    try {
      var part = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var c = JSON.parse(decodeURIComponent(escape(root.atob(part + '==='.slice((part.length + 3) % 4)))));
      return c && typeof c === 'object' ? c : {};
    } catch (e) {
      return {};
    }
  }

  /** close ends the connection for good (code 1000) and rejects what waits. */
  Plezi.prototype.close = function (code, reason) {
    if (this._closed) return;
    this._closed = true;
    clearTimeout(this._timer);
    clearTimeout(this._refreshTimer);
    this._timer = this._refreshTimer = null;
    this._failAll(pleziError('plezi: client closed', 0, 'closed'), true);
    this._state = 'closed';
    var ws = this._ws;
    if (ws && ws.readyState < 2) ws.close(code || 1000, reason || '');
  };

  // ---- internals: connection lifecycle -----------------------------------

  Plezi.prototype._socketURL = function () {
    return withResume(this._url, this.opts.resume ? resumeJSON(this._seen) : '');
  };

  Plezi.prototype._connect = function () {
    var self = this;
    this._timer = null;
    if (!this._needToken && this._opens > 0 && this._expired()) this._needToken = true;
    if (this._needToken) {
      // Closed with 4010: the old tokens are refused; connect with new ones.
      this._newTokens().then(function (tokens) {
        if (self._closed) return;
        if (tokens === null) return self.close(1000, 'no token');
        tokens.forEach(function (t) { self._replaceToken(t); });
        self._needToken = false;
        self._connect();
      }, function (err) {
        report(err);
        if (!self._closed) self._scheduleReconnect();
      });
      return;
    }
    this._state = 'connecting';
    var ws;
    try {
      ws = new WebSocket(this._socketURL(), this.opts.protocols);
    } catch (e) {
      this._state = 'closed';
      this._closed = true;
      throw e;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () { if (self._ws === ws) self._onOpen(); };
    ws.onmessage = function (ev) { if (self._ws === ws) self._onMessage(ev.data); };
    ws.onerror = function (ev) { if (self._ws === ws) self._fire('error', self, [ev]); };
    ws.onclose = function (ev) { if (self._ws === ws) self._onClose(ev.code, ev.reason); };
    this._ws = ws;
  };

  Plezi.prototype._onOpen = function () {
    this._state = 'open';
    this._openedAt = Date.now();
    if (this._opens++ > 0) this._restore();
    var queued = this._outbox;
    this._outbox = [];
    for (var i = 0; i < queued.length; i++) {
      this._ws.send(queued[i].data);
      var p = this._pending.get(queued[i].eid);
      if (p) p.sent = true;
    }
    this._fire('open', this, []);
  };

  Plezi.prototype._onClose = function (code, reason) {
    this._ws = null;
    // A connection that stayed up resets the backoff; one the server drops
    // at once (a crash loop, a full node) keeps it growing.
    if (this._openedAt && Date.now() - this._openedAt >= this.opts.stableAfter) this._attempt = 0;
    this._openedAt = 0;
    clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    // Sent emits lose their ack with the connection; queued ones wait.
    this._failAll(pleziError('plezi: connection closed before the ack (code ' + code + ')', 0, 'disconnected'), false);
    var renew = code === TOKEN_EXPIRED && typeof this.opts.getToken === 'function';
    if (renew) this._needToken = true;
    var final = this._closed || !this.opts.reconnect || (FINAL_CODES[code] === 1 && !renew);
    if (final) {
      this._closed = true;
      this._state = 'closed';
      this._failAll(pleziError('plezi: connection closed (code ' + code + ')', 0, 'closed'), true);
    } else {
      this._scheduleReconnect();
    }
    this._fire('close', this, [code, reason]);
    if (!final) this._fire('reconnecting', this, [this._attempt, this._delay]);
  };

  Plezi.prototype._scheduleReconnect = function () {
    var self = this;
    this._attempt++;
    var span = Math.min(this.opts.backoffCap, this.opts.backoffBase * Math.pow(2, this._attempt - 1));
    this._delay = Math.floor(Math.random() * span);
    this._state = 'reconnecting';
    this._timer = setTimeout(function () { if (!self._closed) self._connect(); }, this._delay);
  };

  // _failAll rejects the pending emits that were sent (all of them, queued
  // too, when everything) and clears their timers.
  Plezi.prototype._failAll = function (err, everything) {
    var self = this;
    this._pending.forEach(function (p, eid) {
      if (!everything && !p.sent) return;
      clearTimeout(p.timer);
      self._pending.delete(eid);
      p.reject(err);
    });
    if (everything) this._outbox = [];
  };

  // _write sends data now, or queues it while not open; false when dropped.
  Plezi.prototype._write = function (data, eid) {
    if (this._state === 'open' && this._ws && this._ws.readyState === 1) {
      this._ws.send(data);
      return true;
    }
    if (this._outbox.length >= this.opts.queue) return false;
    this._outbox.push({ data: data, eid: eid });
    return true;
  };

  // ---- internals: inbound ------------------------------------------------

  Plezi.prototype._onMessage = function (data) {
    var msg = typeof data === 'string' ? parseEvent(data) : null;
    if (!msg) {
      this._fire('message', this, [data]);
      return;
    }
    if (msg.event === '_ack_' || (msg.event === '_err_' && msg._EID_ !== undefined)) {
      if (this._settle(msg)) return;
    }
    if (this._push(msg)) return;
    if (!this._fresh(msg, data)) return;
    if (typeof msg._gap_ === 'number' && msg._gap_ > 0) this._fire('gap', this, [msg._identity, msg._gap_]);
    var args = Array.isArray(msg.args) ? msg.args : [msg];
    this._fire(msg.event, msg, args);
  };

  // _push handles the push server's welcome, message and notify frames;
  // false for any other message.
  Plezi.prototype._push = function (msg) {
    if (msg.event === 'welcome' && typeof msg.id === 'string' && msg.args === undefined) {
      this.id = msg.id;
      this._ttl(msg.ttl_ms);
      this._fire('welcome', msg, [msg.id]);
      return true;
    }
    if (msg.event === 'message' && typeof msg.channel === 'string' && msg.args === undefined) {
      var list = this._channels.get(msg.channel);
      if (list) this._fire1(list, msg, [msg.data, msg.channel]);
      this._fire('message', msg, [msg.data, msg.channel]);
      return true;
    }
    if (msg.event === 'notify' && typeof msg.id === 'string' && typeof msg.identity === 'string' && msg.args === undefined) {
      if (this.opts.resume && /^\d+$/.test(msg.id) && !this._freshID(msg.identity, msg.id)) return true;
      if (typeof msg.gap === 'number' && msg.gap > 0) this._fire('gap', this, [msg.identity, msg.gap]);
      this._fire('notify', msg, [msg.data, msg]);
      return true;
    }
    return false;
  };

  // _settle resolves or rejects the emit the reply answers; false when no
  // emit waits for it (then the reply is an ordinary event).
  Plezi.prototype._settle = function (msg) {
    var p = this._pending.get(msg._EID_);
    if (!p) return false;
    this._pending.delete(msg._EID_);
    clearTimeout(p.timer);
    if (p.quiet && msg.event === '_err_') return false; // an "_err_" event, as without an _EID_
    if (msg.event === '_ack_') p.resolve(msg.data);
    else p.reject(pleziError(msg.error || 'plezi: error ' + msg.status, msg.status, 'server'));
    return true;
  };

  // _fresh records a notification's id and reports whether it is new.
  Plezi.prototype._fresh = function (msg, raw) {
    if (!this.opts.resume || msg._NID_ === undefined || typeof msg._identity !== 'string') return true;
    var nid = nidOf(msg, raw);
    if (nid === '') return true;
    return this._freshID(msg._identity, nid);
  };

  // _freshID records notification id nid (decimal) of identity and
  // reports whether it is new.
  Plezi.prototype._freshID = function (identity, nid) {
    nid = BigInt(nid).toString();
    var st = this._seen[identity];
    if (!st) st = this._seen[identity] = { f: (BigInt(nid) - BigInt(1)).toString(), s: [] };
    if (!seeNID(st, nid)) return false;
    saveSeen(this._storageKey, this._seen);
    return true;
  };

  Plezi.prototype._fire = function (event, self, args) {
    var list = this._handlers[event];
    if (list) this._fire1(list, self, args);
  };

  Plezi.prototype._fire1 = function (list, self, args) {
    list = list.slice(); // handlers may call off()
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(self, args);
      } catch (err) {
        report(err);
      }
    }
  };

  // parseEvent returns the JSON object in text when it names an event.
  function parseEvent(text) {
    var c = text.charCodeAt(0);
    if (c !== 123 /* { */ && c !== 32 && c !== 9 && c !== 10 && c !== 13) return null;
    try {
      var v = JSON.parse(text);
      return v && typeof v === 'object' && typeof v.event === 'string' ? v : null;
    } catch (e) {
      return null;
    }
  }

  Plezi.version = '1.0.0';
  Plezi.FINAL_CODES = Object.keys(FINAL_CODES).map(Number);
  root.Plezi = Plezi;
  if (typeof module === 'object' && module.exports) module.exports = Plezi;
})(typeof window !== 'undefined' ? window : globalThis);
