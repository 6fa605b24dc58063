// Form-urlencoding as OAuth uses it: the token request body and the HTTP Basic
// credentials are built with it, and the secret scrubber looks for secrets in it.

/** Form-urlencodes a value the way RFC 6749 Appendix B asks (spaces as `+`). */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}
