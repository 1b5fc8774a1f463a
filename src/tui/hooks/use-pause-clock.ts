import { useEffect, useState } from 'react';

/**
 * The time for paused flows' wait and countdown labels: a one-second tick that runs only while
 * `active` (something is paused), so an idle UI does not redraw.
 */
export function usePauseClock(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}
