// TypeScript declarations for plezi.js, the browser client of Plezi for Go
// (served at /plezi.js; this file at /plezi.d.ts). The header comment of
// plezi.js is the reference; these types follow it.

/** The error emit(), subscribe(), register() and publish() reject with. */
export interface PleziError extends Error {
  name: 'PleziError';
  /** The server's status for 'server', 408 for 'timeout', else 0. */
  status: number;
  code: 'server' | 'timeout' | 'disconnected' | 'queue_full' | 'closed';
}

export interface PleziOptions {
  /** ms before an emit (or a push request) without ack rejects; default 5000 */
  timeout?: number;
  /** frames kept while disconnected; default 256 */
  queue?: number;
  /** reconnect after an unexpected close; default true */
  reconnect?: boolean;
  /** ms, first reconnect window; default 250 */
  backoffBase?: number;
  /** ms, largest reconnect window; default 10000 */
  backoffCap?: number;
  /** ms a connection must stay open to reset the backoff; default 5000 */
  stableAfter?: number;
  /** send _resume / "after" and drop repeated notifications; default true */
  resume?: boolean;
  /** websocket sub-protocols */
  protocols?: string | string[];
  /** a JWT for the push server, sent as ?token=; replaced by refreshes */
  token?: string;
  /**
   * push server: a new JWT for subject `sub`, asked for before a token
   * expires (then sent as a refresh) and after close 4010 (then the client
   * reconnects with it). Resolving to '' (or null) closes the client;
   * rejecting is retried with the reconnect backoff. Without it 4010 is
   * final.
   */
  getToken?: (sub: string) => Promise<string | null> | string | null;
}

/** What the push server acks a register or refresh with. */
export interface PleziTokenAck {
  /** register: the identity joined */
  identity?: string;
  /** ms until the connection's earliest token expires; absent: none does */
  ttl_ms?: number;
  /** refresh: channels the new token no longer allows (dropped) */
  unsubscribed?: string[];
}

export type PleziState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One message of the JSON protocol as it arrived (`this` in handlers). */
export interface PleziMessage {
  event: string;
  args?: unknown[];
  data?: unknown;
  [field: string]: unknown;
}

/** A push server notification: {"event":"notify","id","identity","data"}. */
export interface PleziNotification extends PleziMessage {
  event: 'notify';
  /** the mailbox note id, a decimal string (uint64) */
  id: string;
  identity: string;
  /** the notification's name, when the backend gave one other than "notify" */
  name?: string;
  /** how many older notifications the mailbox dropped before this one */
  gap?: number;
  data: unknown;
}

export type ChannelHandler = (this: PleziMessage, data: unknown, channel: string) => void;

export interface PleziHandlers {
  open: (this: Plezi) => void;
  close: (this: Plezi, code: number, reason: string) => void;
  reconnecting: (this: Plezi, attempt: number, delayMs: number) => void;
  error: (this: Plezi, event: Event) => void;
  gap: (this: Plezi, identity: string, missed: number) => void;
  /** push server: the connection id (this.ttl_ms: ms until the token expires, when it does) */
  welcome: (this: PleziMessage, id: string) => void;
  /**
   * push server: (data, channel) for each publish on a subscribed channel;
   * raw routes: (data) for each frame that is not a JSON event.
   */
  message: (this: PleziMessage, data: unknown, channel?: string) => void;
  /** push server: an identity notification, repeats dropped */
  notify: (this: PleziNotification, data: unknown, msg: PleziNotification) => void;
}

declare class Plezi {
  /** Connects at once. url may be relative ("/push"), http(s):// or ws(s)://. */
  constructor(url: string, opts?: PleziOptions);

  static readonly version: string;
  /** Close codes after which the client does not reconnect (4010: unless opts.getToken is set). */
  static readonly FINAL_CODES: number[];

  readonly opts: Required<Omit<PleziOptions, 'protocols' | 'token' | 'getToken'>> & Pick<PleziOptions, 'protocols' | 'token' | 'getToken'>;
  readonly state: PleziState;
  /** the websocket url of the current (or next) connection, _resume included */
  readonly url: string;
  /** identity → the id up to which every notification was seen (decimal) */
  readonly lastSeen: Record<string, string>;
  /** push server: the connection id from the welcome ('' before it) */
  id: string;

  on<K extends keyof PleziHandlers>(event: K, fn: PleziHandlers[K]): this;
  /** Any other event: fn(...args) when the message has args, else fn(msg). */
  on(event: string, fn: (this: PleziMessage, ...args: any[]) => void): this;
  off(event: string, fn?: (...args: any[]) => void): this;

  /** Sends {"event", "_EID_", "args"}; resolves with the ack's data. */
  emit(event: string, ...args: unknown[]): Promise<unknown>;
  /** Writes a raw frame (string as text, binary as binary); false when dropped. */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): boolean;
  /** Ends the connection for good (default code 1000). */
  close(code?: number, reason?: string): void;

  /** push server: joins channel; subscribed again after a reconnect. */
  subscribe(channel: string, fn?: ChannelHandler): Promise<void>;
  /** push server: leaves channel and drops its handlers. */
  unsubscribe(channel: string): Promise<void>;
  /** push server: publishes data where the server lets clients publish. */
  publish(channel: string, data?: unknown): Promise<void>;
  /**
   * push server: joins the identity in the token's "sub" (default: the
   * connection's opts.token); its missed notifications arrive first.
   */
  register(token?: string): Promise<{ identity: string; ttl_ms?: number }>;
  /**
   * push server: a new token for a sub the connection holds a token of
   * (its own, a registration's), before the old one expires; used from
   * then on. opts.getToken does this by itself.
   */
  refresh(token: string): Promise<PleziTokenAck | undefined>;
}

export { Plezi };
export default Plezi;

declare global {
  interface Window {
    Plezi: typeof Plezi;
  }
}
