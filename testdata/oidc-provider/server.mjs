// An OpenID Provider for ginauth's interoperability test
// (interop_oidcprovider_test.go), built on panva's oidc-provider.
//
// It listens on a free port of 127.0.0.1, chosen by the system, and prints
// "oidc-provider listening on http://127.0.0.1:<port>" once it serves; the
// issuer is that URL. The test passes the client through the environment:
//
//   OP_CLIENT_ID, OP_CLIENT_SECRET    the one client (client_secret_basic)
//   OP_REDIRECT_URI                   its redirect_uri
//   OP_POST_LOGOUT_REDIRECT_URI       its post_logout_redirect_uri
//   OP_BACKCHANNEL_LOGOUT_URI         its backchannel_logout_uri (sid required)
//   OP_ACCESS_TOKEN_TTL               access token lifetime in seconds (default 60)
//
// Development only: devInteractions (plain login and consent forms that
// accept any login), in-memory storage, fresh keys at each start, and
// back-channel logout requests allowed to reach loopback addresses.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`server.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const client = {
  client_id: required('OP_CLIENT_ID'),
  client_secret: required('OP_CLIENT_SECRET'),
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [required('OP_REDIRECT_URI')],
  post_logout_redirect_uris: [required('OP_POST_LOGOUT_REDIRECT_URI')],
  backchannel_logout_uri: required('OP_BACKCHANNEL_LOGOUT_URI'),
  backchannel_logout_session_required: true,
  // ES256 rather than the default RS256, which the mockoidc test covers.
  id_token_signed_response_alg: 'ES256',
};
const accessTokenTTL = Number(process.env.OP_ACCESS_TOKEN_TTL || 60);

// Fresh signing keys: an RSA key (oidc-provider's default algorithm) and a
// P-256 key for the client's ES256.
function signingKey(type, options, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}
const jwks = {
  keys: [
    signingKey('rsa', { modulusLength: 2048 }, 'interop-rsa'),
    signingKey('ec', { namedCurve: 'P-256' }, 'interop-p256'),
  ],
};

// Every login name is an account; its claims are derived from it.
async function findAccount(ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: `Interop ${sub}`,
        preferred_username: sub,
        email: `${sub}@example.org`,
        email_verified: true,
      };
    },
  };
}

const configuration = {
  clients: [client],
  jwks,
  findAccount,
  claims: {
    acr: null,
    sid: null,
    auth_time: null,
    iss: null,
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    userinfo: { enabled: true },
  },
  // PKCE on every authorization request (S256 is the only method offered).
  pkce: { required: () => true },
  // Refresh tokens for clients allowed the grant that asked for
  // offline_access (which oidc-provider keeps only with prompt=consent),
  // and a new refresh token at every use: the old one is then refused, and
  // presenting it again revokes the whole grant.
  issueRefreshToken: async (ctx, c, code) => c.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 24 * 3600,
  },
  // oidc-provider refuses to send back-channel logout requests to
  // special-use addresses (SSRF protection), which includes 127.0.0.1, where
  // the test's app listens: drop that protection for this test server only.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  let provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (err) {
    console.error('server.mjs: configuration refused:', err);
    process.exit(3);
  }
  provider.on('backchannel.success', (ctx, c, accountId, sid) => {
    console.log(`backchannel.success client=${c.clientId} sub=${accountId} sid=${sid}`);
  });
  provider.on('backchannel.error', (ctx, err, c, accountId, sid) => {
    console.log(`backchannel.error client=${c.clientId} sub=${accountId} sid=${sid}: ${err.message}`);
  });
  provider.on('server_error', (ctx, err) => {
    console.error('server_error:', err);
  });
  server.on('request', provider.callback());
  console.log(`oidc-provider listening on ${issuer}`);
});

function shutdown() {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The test holds our stdin open: when it ends, even without cleaning up
// (killed, timed out), stdin closes and this server stops.
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
