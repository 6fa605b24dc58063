// One BFF worker of the multi-process BFF spec (forked with tsx): its own Axios
// instance, Redis connection and attachUserAuth handle over a shared RedisTokenStore,
// driven by the parent over IPC; it answers each command with one message.

import axios from 'axios';
import { Redis } from 'ioredis';
import { attachUserAuth, RedisTokenStore } from '../../lib/index.js';

export type BffWorkerCommand =
  | { type: 'sign-in'; id: number; user: string; tokens: { access_token: string; refresh_token: string; expires_in: number } }
  | { type: 'burst'; id: number; users: string[]; perUser: number };

export type BffWorkerMessage =
  | { type: 'ready' }
  | { type: 'signed-in'; id: number }
  | { type: 'burst-done'; id: number; ok: number; wrongUser: number; failures: string[] };

const { REDIS_PORT, API_URL, TOKEN_URL, CLIENT_ID, CLIENT_SECRET } = process.env;

const client = new Redis(Number(REDIS_PORT), '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
client.on('error', () => {});
await client.connect();
const api = axios.create({ baseURL: API_URL ?? '', timeout: 15_000 });
const handle = attachUserAuth(api, {
  tokenUrl: TOKEN_URL ?? '',
  clientId: CLIENT_ID ?? '',
  clientSecret: CLIENT_SECRET ?? '',
  tokens: new RedisTokenStore({ client, prefix: 'bff-multi-process:', encryptionKey: 'the passphrase every worker shares', pollInterval: 20 }),
  tokenRequest: { timeout: 5000 },
});

const send = (message: BffWorkerMessage): void => void process.send?.(message);

process.on('message', (command: BffWorkerCommand) => {
  if (command.type === 'sign-in') {
    void handle.signIn(command.user, command.tokens).then(() => send({ type: 'signed-in', id: command.id }));
    return;
  }
  const requests = command.users.flatMap((user) => Array.from({ length: command.perUser }, () => ({ user, result: api.get<{ user: string }>('/api/me', { authSubject: user, headers: { 'x-user': user } }) })));
  void Promise.allSettled(requests.map((request) => request.result)).then((results) => {
    let ok = 0;
    let wrongUser = 0;
    const failures: string[] = [];
    results.forEach((result, index) => {
      if (result.status === 'rejected') failures.push(String(result.reason));
      else if (result.value.data.user === requests[index]!.user) ok += 1;
      else wrongUser += 1;
    });
    send({ type: 'burst-done', id: command.id, ok, wrongUser, failures: failures.slice(0, 5) });
  });
});

process.on('disconnect', () => {
  handle.detach();
  void client.quit().finally(() => process.exit(0));
});

send({ type: 'ready' });
