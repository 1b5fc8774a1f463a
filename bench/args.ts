/** `npm run bench -- [options]`. */
import { resolve } from 'node:path';

export interface BenchArgs {
  quick: boolean;
  /** Scenario names to run (all when empty). */
  only: string[];
  /** Folder for V8 CPU profiles of every proxy started (`node --cpu-prof`). */
  cpuProfDir: string | null;
  build: boolean;
  /** Result file; default bench/results/latest.json (latest-quick.json with --quick, partial.json with --only). */
  out: string | null;
  /** Plain HTTP with the Node client even when wrk is installed. */
  noWrk: boolean;
  list: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only NAME[,NAME…]] [--cpu-prof DIR] [--no-wrk] [--no-build] [--out FILE] [--list]

  --quick         shorter windows and scaled-down soak scenarios (about two minutes)
  --only NAMES    run only these scenarios (see --list); writes bench/results/partial.json
  --cpu-prof DIR  start every proxy with node --cpu-prof --cpu-prof-dir DIR
  --no-wrk        drive plain HTTP with the Node client even when wrk is installed
  --no-build      do not rebuild dist/ when src/ is newer
  --out FILE      write the JSON results here
  --list          list the scenarios and exit`;

export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], cpuProfDir: null, build: true, out: null, noWrk: false, list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick':
        args.quick = true;
        break;
      case '--only':
        args.only.push(...value().split(',').filter(Boolean));
        break;
      case '--cpu-prof':
        args.cpuProfDir = resolve(value());
        break;
      case '--no-build':
        args.build = false;
        break;
      case '--no-wrk':
        args.noWrk = true;
        break;
      case '--out':
        args.out = resolve(value());
        break;
      case '--list':
        args.list = true;
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return args;
}
