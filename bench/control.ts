// The client side of the loopback server's /control endpoints: knobs and
// counters, sent on a private agent so they never share a socket with a
// contender.

import http from 'node:http';
import type { ServerConfig, ServerStats } from './server.js';

export class ServerControl {
  readonly origin: string;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

  constructor(origin: string) {
    this.origin = origin;
  }

  configure(config: Partial<ServerConfig>): Promise<ServerConfig> {
    return this.#call<ServerConfig>('/control/configure', config);
  }

  /** Forgets every token issued: the API answers 401 to all of them from now on. */
  async revoke(): Promise<void> {
    await this.#call('/control/revoke');
  }

  resetCounters(): Promise<ServerStats> {
    return this.#call<ServerStats>('/control/reset-counters');
  }

  /** Back to the defaults: no tokens, zeroed counters, token endpoint answering at once. */
  reset(): Promise<ServerStats> {
    return this.#call<ServerStats>('/control/reset');
  }

  stats(): Promise<ServerStats> {
    return this.#call<ServerStats>('/control/stats');
  }

  /** Resolves once a token request is in flight at the server (polls; bounded). */
  async tokenRequestInFlight(limitMs = 5000): Promise<boolean> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      if ((await this.stats()).tokenInFlight > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return false;
  }

  close(): void {
    this.#agent.destroy();
  }

  #call<T>(path: string, body: unknown = {}): Promise<T> {
    const text = JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const request = http.request(
        `${this.origin}${path}`,
        { method: 'POST', agent: this.#agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, timeout: 10_000 },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`control call ${path} timed out`)));
      request.on('error', reject);
      request.end(text);
    });
  }
}
