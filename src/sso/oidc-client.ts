/**
 * The relying party of OpenID Connect sign-in, on `openid-client` (a certified implementation): discovery
 * from OPENID_PROVIDER_URL (the issuer, or its full `/.well-known/openid-configuration` URL), client
 * authentication by Basic header or form as the provider advertises, the authorization code flow with
 * PKCE, state and nonce. No protocol check is written here: the library makes every one.
 */
import * as client from 'openid-client'
import type { OidcConfig } from '../config/env.js'

/** What one sign-in attempt must remember between the redirect and the callback (kept in a signed cookie). */
export interface FlowSecrets {
  state: string
  nonce: string
  codeVerifier: string
  redirectUri: string
}

/** How long discovery may fail before the next request tries again (a provider down at start must not stick). */
const DISCOVERY_RETRY_MS = 5_000

export class OidcClient {
  private configuration: Promise<client.Configuration> | undefined
  private failedAt = 0

  constructor(private readonly config: OidcConfig) {}

  /** Whether http:// is allowed (OPENID_PROVIDER_URL on a loopback host: a provider on this machine). */
  private get insecure(): boolean {
    return new URL(this.config.providerUrl).protocol === 'http:'
  }

  /** The provider's configuration, discovered once (again after a failure, at most every few seconds). */
  private discover(): Promise<client.Configuration> {
    if (this.configuration && !(this.failedAt && Date.now() - this.failedAt > DISCOVERY_RETRY_MS)) return this.configuration
    this.failedAt = 0
    const options = this.insecure ? { execute: [client.allowInsecureRequests] } : undefined
    this.configuration = client.discovery(new URL(this.config.providerUrl), this.config.clientId, undefined, client.None(), options).then((found) => {
      const metadata = found.serverMetadata()
      // The spec's default is Basic; a provider that advertises only the form gets the form.
      const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
      const secret = this.config.clientSecret
      const auth =
        secret === null
          ? client.None()
          : methods.includes('client_secret_basic')
            ? client.ClientSecretBasic(secret)
            : methods.includes('client_secret_post')
              ? client.ClientSecretPost(secret)
              : client.ClientSecretBasic(secret)
      const configuration = new client.Configuration(metadata, this.config.clientId, secret ?? undefined, auth)
      if (this.insecure) client.allowInsecureRequests(configuration)
      return configuration
    })
    this.configuration.catch(() => {
      this.failedAt = Date.now()
    })
    return this.configuration
  }

  /** Where to send the browser, and the secrets the callback must present again. */
  async start(redirectUri: string): Promise<{ url: string; secrets: FlowSecrets }> {
    const configuration = await this.discover()
    const secrets: FlowSecrets = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), redirectUri }
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.scopes,
      response_type: 'code',
      state: secrets.state,
      nonce: secrets.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(secrets.codeVerifier),
      code_challenge_method: 'S256',
    })
    return { url: url.href, secrets }
  }

  /**
   * Exchanges the code of the callback (`callbackUrl`: the full URL the provider redirected to) for
   * tokens, checking state, nonce, PKCE, the ID token's signature, issuer, audience and times; then reads
   * the userinfo endpoint (when the provider has one). The claims: the ID token's, userinfo's winning.
   */
  async finish(callbackUrl: URL, secrets: FlowSecrets): Promise<Record<string, unknown>> {
    const configuration = await this.discover()
    const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: secrets.codeVerifier,
      expectedState: secrets.state,
      expectedNonce: secrets.nonce,
      idTokenExpected: true,
    })
    const idClaims = tokens.claims()
    if (!idClaims) throw new Error('the provider returned no ID token')
    let userinfo: Record<string, unknown> = {}
    if (configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)
    }
    return { ...idClaims, ...userinfo }
  }
}
