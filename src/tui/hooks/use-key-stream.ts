import { useInput, type Key } from 'ink';
import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';
import { specialKey, takeKey, type KeyEvent } from '../input.js';

/** How long a key with no visible effect holds back the keys queued behind it. */
const NO_RENDER_RELEASE_MS = 30;

/**
 * Feed key presses to `onKey` one at a time, each after the previous one's update was rendered.
 * Several keys can arrive at once (typed fast, pasted, sent by tmux or a test) and each must see
 * the state the previous one produced: `f` opens the prompt and the characters after it are its
 * text; Enter then Tab opens a flow and switches its tab. React renders asynchronously, so the
 * next key waits for a commit whose `state` differs from the one the key saw (a commit caused by
 * new flows alone does not count), or a short timer when the key changed nothing.
 *
 * `mode()` says how to cut plain text: per character for the keymap, per run for a prompt.
 * Must be called by the component that owns `state` (the UI reducer's state).
 */
export function useKeyStream(onKey: (ev: KeyEvent) => void, mode: () => 'keys' | 'text', state: unknown, isActive = true): void {
  const queue = useRef<Array<KeyEvent | string>>([]);
  const waiting = useRef(false);
  const timer = useRef<NodeJS.Timeout | null>(null);
  const handlers = useRef({ onKey, mode, state });
  handlers.current = { onKey, mode, state };
  /** The state the key being handled saw. */
  const seen = useRef<unknown>(undefined);

  const next = useCallback(function next(): void {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    waiting.current = false;
    const head = queue.current.shift();
    if (head === undefined) return;
    waiting.current = true;
    seen.current = handlers.current.state;
    timer.current = setTimeout(next, NO_RENDER_RELEASE_MS);
    if (typeof head === 'string') {
      const [ev, rest] = takeKey(head, handlers.current.mode());
      if (rest) queue.current.unshift(rest);
      handlers.current.onKey(ev);
    } else {
      handlers.current.onKey(head);
    }
  }, []);

  // Runs after every commit of the owning component: release the next key once the last one's
  // update is on screen.
  useLayoutEffect(() => {
    if (waiting.current && state !== seen.current) queueMicrotask(next);
  });

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      queue.current = [];
    },
    [],
  );

  const onInput = useCallback(
    (input: string, key: Key) => {
      const special = specialKey(input, key);
      if (special && special.name === null) return;
      if (!special && input === '') return;
      queue.current.push(special ?? input);
      if (!waiting.current) next();
    },
    [next],
  );
  useInput(onInput, { isActive });
}
