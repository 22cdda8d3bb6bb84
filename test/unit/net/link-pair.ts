import { Link } from '../../../src/net/link.ts';
import { FakeChannel } from './fake-channel.ts';

/**
 * Links 'a' and 'b' over two fake channels (the test moves frames between them), logging what
 * each hears and why it closes; `track` takes each link, for the test file to close after.
 */
export function linkPair(track: (link: Link) => void) {
  const [ca, cb] = [new FakeChannel(), new FakeChannel()];
  const log: string[] = [];
  const make = (self: string, peer: string, ch: FakeChannel) => {
    const link = new Link(
      ch,
      peer,
      { selfId: self, session: `${self}-s`, room: 'r', capabilities: {} },
      {
        ready: () => undefined,
        message: (m) => log.push(`${self} got ${m.t}`),
        dropped: (reason) => log.push(`${self} dropped ${reason}`),
        closed: (reason) => log.push(`${self}: ${reason}`),
      },
    );
    track(link);
    return link;
  };
  return { a: make('a', 'b', ca), b: make('b', 'a', cb), ca, cb, log };
}
