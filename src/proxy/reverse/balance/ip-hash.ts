import type { Balancer, Candidate } from './balancer.js';

/**
 * Client-address affinity by weighted rendezvous hashing (HRW): every (client, backend) pair gets
 * a pseudo-random score and the client goes to the backend scoring highest. The same client keeps
 * its backend while that backend is usable; when one goes down only its own clients move (everyone
 * else's highest score is unchanged), and they come back when it returns. Stateless.
 */
export class IpHash implements Balancer {
  pick(candidates: readonly Candidate[], client: string): number {
    let best = candidates[0]!;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const score = rendezvousScore(client, c.key, c.weight);
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best.index;
  }
}

/** `-weight / ln(u)` with u uniform in (0,1) from the pair's hash: the weighted HRW score. */
export function rendezvousScore(client: string, key: string, weight: number): number {
  const u = (hash32(`${client}\u0000${key}`) + 0.5) / 4294967296;
  return -weight / Math.log(u);
}

/** FNV-1a over UTF-16 code units, then the murmur3 finalizer so close inputs scatter. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
