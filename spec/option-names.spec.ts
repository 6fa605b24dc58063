import { expect } from 'chai';
import { ATTACH_AUTH_OPTION_NAMES, closestName, editDistance } from '../lib/option-names.js';

describe('option-names', () => {
  it('counts a swapped pair of letters as one edit (Damerau), an insertion or deletion as one', () => {
    expect(editDistance('limti', 'limit')).to.equal(1);
    expect(editDistance('timout', 'timeout')).to.equal(1);
    expect(editDistance('timeoutt', 'timeout')).to.equal(1);
    expect(editDistance('', 'abc')).to.equal(3);
    expect(editDistance('kitten', 'sitting')).to.equal(3);
  });

  it('suggests a name on another level when the last part matches (timeout → tokenRequest.timeout)', () => {
    expect(closestName('timeout', 'timeout', ['tokenUrl', 'tokenRequest', 'tokenRequest.timeout'])).to.equal('tokenRequest.timeout');
  });

  it('suggests nothing when the nearest name is too far to be a typo', () => {
    expect(closestName('database', 'database', ['tokenUrl', 'retry'])).to.equal(undefined);
  });

  it('knows every top-level attachAuth option', () => {
    expect(ATTACH_AUTH_OPTION_NAMES).to.include.members(['tokenUrl', 'clientId', 'clientSecret', 'tokenRequest', 'retry', 'events', 'logger', 'store']);
  });
});
