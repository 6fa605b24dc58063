// The smallest useful program: one line gives an Axios instance OAuth tokens.
// It runs against the embedded demo provider (examples/demo-server.ts), so it
// needs no account and no network: `npx tsx examples/quick-start.ts`.
// In your own code, import from 'axios-oauth-queue' and drop `baseUrl`.

import axios from 'axios';
import { attachAuth, presets } from '../lib/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoProvider } from './demo-server.js';

const provider = new DemoProvider();
const baseUrl = await provider.start(); // stands in for https://api.mvmnt.io

const api = axios.create({ baseURL: baseUrl });
const auth = attachAuth(api, presets.mvmnt({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, baseUrl }));

// Use the instance as usual: the token is fetched, cached, attached and renewed for you.
const { data } = await api.get('/orders/42');
console.log('GET /orders/42 →', data);
console.log('token requests:', auth.stats().tokenRequests);

// Take the interceptors and timers off; the process can then exit on its own.
auth.detach();
await provider.close();
