/**
 * The swarm secret, used two ways, both with Web Crypto HMAC-SHA-256 so the secret itself
 * never leaves the peer:
 * - the room name the coordinator sees is derived from it, so peers without the secret are in
 *   another room and discover nobody;
 * - on every new channel each side proves it knows the secret by signing the other's fresh
 *   nonce (challenge-response), before any application message is accepted.
 */

const text = new TextEncoder();

export interface Secret {
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export async function importSecret(secret: string): Promise<Secret> {
  const key = await crypto.subtle.importKey(
    'raw',
    text.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return {
    sign: async (data) =>
      new Uint8Array(await crypto.subtle.sign('HMAC', key, data as BufferSource)),
  };
}

/** The room name given to the coordinator: the name itself, or an HMAC of it under the secret. */
export async function roomKey(room: string, secret: Secret | undefined): Promise<string> {
  if (secret === undefined) return room;
  const mac = await secret.sign(text.encode(`handout/room/${room}`));
  return `s-${hex(mac.subarray(0, 16))}`;
}

/** What `prover` sends to answer `verifier`'s nonce. */
export function proof(
  secret: Secret,
  nonce: Uint8Array,
  prover: string,
  verifier: string,
): Promise<Uint8Array> {
  const label = text.encode(`handout/auth/${prover}>${verifier}/`);
  const data = new Uint8Array(label.length + nonce.length);
  data.set(label);
  data.set(nonce, label.length);
  return secret.sign(data);
}

/** Constant-time comparison of two proofs. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function randomNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
