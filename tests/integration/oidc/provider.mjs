// The organisation's identity provider for the console's browser test: oidc-provider (a
// certified OpenID Connect implementation) with its own login form, on loopback. Usage:
//   node provider.mjs <config.json>
// config: {port, issuer, clients: [{client_id, client_secret, redirect_uris}],
//          accounts: {<login>: {name, role, tenant}}}
// Prints "ready" once it listens. Its signing key is made at start, so nothing secret is kept.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), kid: 'procedo-test', use: 'sig', alg: 'RS256' };

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signing] },
  // The console reads the person's role and organisation from the ID token's claims.
  // The citizens' portal reads the person's fiscal code, as SPID and CIE give it.
  claims: { openid: ['sub'], profile: ['name', 'fiscal_number'], procedo: ['role', 'tenant'] },
  scopes: ['openid', 'profile', 'procedo'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
// Logins that name no configured account fail at the provider, as an unknown user would.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

createServer(provider.callback()).listen(config.port, '127.0.0.1', () => console.log('ready'));
