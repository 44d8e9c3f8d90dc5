// The failover TCP listeners of one server: one socket per address:port, shared by every relationship
// that listens there (a hub in several relationships listens once on 647). An inbound connection goes to
// the relationship whose partner address it comes from (no two relationships of a server share a partner,
// config/relationships.ts). With a single relationship on a listener every connection goes to it, so its
// transport refuses and counts strangers as before.
import net from 'node:net';
import { BindError } from '../../errors.ts';
import { log } from '../../log.ts';

/** Inbound sockets one relationship's transport keeps from its partner's address (connection.ts evicts beyond). */
export const MAX_INBOUND_SOCKETS = 4;
/** The listener's cap per relationship: those, plus one to refuse or evict with. */
const SOCKETS_PER_RELATIONSHIP = MAX_INBOUND_SOCKETS + 1;

type Accept = (socket: net.Socket) => void;

/** Where a listener sits and who listens: `release` detaches this relationship (the last one closes it). */
export interface ListenerClaim { release(): Promise<void> }

class SharedListener {
  readonly address: string;
  readonly port: number;
  private readonly routes = new Map<string, Accept>();
  private server: net.Server | undefined;
  private starting: Promise<void> | undefined;

  constructor(address: string, port: number) { this.address = address; this.port = port; }

  get routeCount(): number { return this.routes.size; }

  route(partnerAddress: string, accept: Accept): void {
    if (this.routes.has(partnerAddress)) throw new Error(`two relationships on ${this.address}:${this.port} with partner ${partnerAddress}`);
    this.routes.set(partnerAddress, accept);
    if (this.server) this.server.maxConnections = SOCKETS_PER_RELATIONSHIP * this.routes.size;
  }

  unroute(partnerAddress: string): void { this.routes.delete(partnerAddress); }

  /** Binds once; later callers wait for the same bind. A port that is taken or not permitted rejects with a BindError. */
  start(setting = 'failover.port'): Promise<void> {
    this.starting ??= new Promise<void>((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: false }, (socket) => this.dispatch(socket));
      server.maxConnections = SOCKETS_PER_RELATIONSHIP * Math.max(1, this.routes.size);
      const fail = (err: Error): void => reject(new BindError({ what: 'failover TCP', address: this.address, port: this.port, setting }, err));
      server.once('error', fail);
      server.listen(this.port, this.address, () => {
        server.off('error', fail);
        server.on('error', (err) => log.error('failover.listen.error', { err }));
        this.server = server;
        resolve();
      });
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private dispatch(socket: net.Socket): void {
    const remote = socket.remoteAddress?.replace(/^::ffff:/, '');
    const accept = (remote !== undefined ? this.routes.get(remote) : undefined) ?? (this.routes.size === 1 ? [...this.routes.values()][0] : undefined);
    if (accept !== undefined) { accept(socket); return; }
    log.warn('failover.listen.refused', { remote, local: `${this.address}:${this.port}`, why: 'no relationship has this partner address' });
    socket.destroy();
  }
}

/** Every failover listener of one server, by address:port. */
export class FailoverListeners {
  private readonly listeners = new Map<string, SharedListener>();

  /** Routes connections from `partnerAddress` on address:port to `accept`, listening first if nobody does yet. */
  /** `setting` names the config field a bind error points at (e.g. the port of one relationship among several). */
  async claim(address: string, port: number, partnerAddress: string, accept: Accept, setting = 'failover.port'): Promise<ListenerClaim> {
    const key = `${address}:${port}`;
    let listener = this.listeners.get(key);
    if (listener === undefined) { listener = new SharedListener(address, port); this.listeners.set(key, listener); }
    listener.route(partnerAddress, accept);
    try {
      await listener.start(setting);
    } catch (err) {
      listener.unroute(partnerAddress);
      if (listener.routeCount === 0) this.listeners.delete(key);
      throw err;
    }
    const owner = listener;
    return {
      release: async () => {
        owner.unroute(partnerAddress);
        if (owner.routeCount > 0) return;
        if (this.listeners.get(key) === owner) this.listeners.delete(key);
        await owner.stop();
      },
    };
  }
}
