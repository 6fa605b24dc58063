import type { InternalAxiosRequestConfig } from 'axios';
import { AxiosHeaders } from 'axios';
import { expect } from 'chai';
import { OriginGuard } from '../lib/origin-guard.js';

const guard = (): OriginGuard => new OriginGuard(new Set(['https://api.example.com', 'http://127.0.0.1:8080']));

function request(url: string | undefined, baseURL?: string, extra: Partial<InternalAxiosRequestConfig> = {}): InternalAxiosRequestConfig {
  const config: InternalAxiosRequestConfig = { headers: new AxiosHeaders(), ...extra };
  if (url !== undefined) config.url = url;
  if (baseURL !== undefined) config.baseURL = baseURL;
  return config;
}

describe('origin-guard', () => {
  it('allows a relative URL on an allowed baseURL', () => {
    expect(guard().allowsRequest(request('/orders?page=2', 'https://api.example.com/v1'))).to.equal(true);
  });

  it('allows an absolute URL on an allowed origin whatever the baseURL', () => {
    expect(guard().allowsRequest(request('https://api.example.com/orders', 'https://elsewhere.example.net'))).to.equal(true);
  });

  it('refuses an absolute URL on another origin even when the baseURL is allowed', () => {
    expect(guard().allowsRequest(request('https://evil.example.net/steal', 'https://api.example.com'))).to.equal(false);
    expect(guard().allowsRequest(request('//evil.example.net/steal', 'https://api.example.com'))).to.equal(false);
  });

  it('refuses an absolute URL on another origin even with allowAbsoluteUrls: false, which axios before 1.8.2 ignores', () => {
    expect(guard().allowsRequest(request('https://evil.example.net/x', 'https://api.example.com', { allowAbsoluteUrls: false }))).to.equal(false);
  });

  it('with allowAbsoluteUrls: false, allows an absolute URL only when the baseURL it may be joined to is allowed too', () => {
    expect(guard().allowsRequest(request('https://api.example.com/x', 'https://api.example.com', { allowAbsoluteUrls: false }))).to.equal(true);
    expect(guard().allowsRequest(request('https://api.example.com/x', 'https://evil.example.net', { allowAbsoluteUrls: false }))).to.equal(false);
  });

  it('refuses a request without an absolute URL to judge', () => {
    expect(guard().allowsRequest(request('/orders'))).to.equal(false);
    expect(guard().allowsRequest(request(undefined))).to.equal(false);
  });

  it('compares origins exactly: scheme, host and port', () => {
    const g = guard();
    expect(g.allowsUrl('https://API.example.com:443/x')).to.equal(true);
    expect(g.allowsUrl('http://api.example.com/x')).to.equal(false);
    expect(g.allowsUrl('https://api.example.com:8443/x')).to.equal(false);
    expect(g.allowsUrl('https://api.example.com.evil.net/x')).to.equal(false);
    expect(g.allowsUrl('http://127.0.0.1:8080/x')).to.equal(true);
    expect(g.allowsUrl('http://127.0.0.1:8081/x')).to.equal(false);
  });

  it('is not fooled by user info or backslashes that hide the real host', () => {
    const g = guard();
    expect(g.allowsUrl('https://api.example.com@evil.example.net/x')).to.equal(false);
    expect(g.allowsUrl('https://evil.example.net\\@api.example.com/x')).to.equal(false);
  });

  it('gives the same answer the second time (decisions are cached per prefix)', () => {
    const g = guard();
    expect([g.allowsUrl('https://api.example.com/a'), g.allowsUrl('https://api.example.com/b')]).to.deep.equal([true, true]);
    expect([g.allowsUrl('https://evil.example.net/a'), g.allowsUrl('https://evil.example.net/b')]).to.deep.equal([false, false]);
  });
});
