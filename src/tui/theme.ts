import { createContext, useContext } from 'react';

/** What a piece of text means; the theme decides how it looks. */
export type Role =
  | 'plain'
  | 'muted'
  | 'heading'
  | 'accent'
  | 'selected'
  | 'match'
  | 'current-match'
  | 'ok'
  | 'info'
  | 'warn'
  | 'error'
  | 'status1'
  | 'status2'
  | 'status3'
  | 'status4'
  | 'status5'
  | 'key'
  | 'string'
  | 'number'
  | 'literal'
  | 'punct'
  | 'tag'
  | 'attr'
  | 'bar'
  /** A fact in the status bar that is switched on (the cache); drawn over the bar's inverse. */
  | 'bar-on';

/** The subset of Ink `<Text>` props a role maps to. */
export interface TextStyle {
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
  underline?: boolean;
}

export type Theme = Readonly<Record<Role, TextStyle>>;

export const colorTheme: Theme = {
  plain: {},
  muted: { color: 'gray' },
  heading: { bold: true },
  accent: { color: 'cyan' },
  selected: { inverse: true },
  match: { backgroundColor: 'yellow', color: 'black' },
  'current-match': { backgroundColor: 'magenta', color: 'white' },
  ok: { color: 'green' },
  info: { color: 'blue' },
  warn: { color: 'yellow' },
  error: { color: 'red' },
  status1: { color: 'gray' },
  status2: { color: 'green' },
  status3: { color: 'cyan' },
  status4: { color: 'yellow' },
  status5: { color: 'red', bold: true },
  key: { color: 'blue' },
  string: { color: 'green' },
  number: { color: 'magenta' },
  literal: { color: 'yellow' },
  punct: { color: 'gray' },
  tag: { color: 'cyan' },
  attr: { color: 'yellow' },
  bar: { inverse: true },
  'bar-on': { bold: true, color: 'green' },
};

/**
 * NO_COLOR (https://no-color.org): no colour at all. Text attributes are not colours, so selection,
 * matches and headings stay visible through inverse, underline and bold.
 */
export const monoTheme: Theme = {
  plain: {},
  muted: { dimColor: true },
  heading: { bold: true },
  accent: { bold: true },
  selected: { inverse: true },
  match: { underline: true },
  'current-match': { inverse: true },
  ok: {},
  info: {},
  warn: { bold: true },
  error: { bold: true },
  status1: {},
  status2: {},
  status3: {},
  status4: { bold: true },
  status5: { bold: true },
  key: {},
  string: {},
  number: {},
  literal: {},
  punct: {},
  tag: {},
  attr: {},
  bar: { inverse: true },
  'bar-on': { bold: true },
};

/** True when NO_COLOR is present and not empty, as the convention says. */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['NO_COLOR'];
  return value !== undefined && value !== '';
}

export function themeFor(env: NodeJS.ProcessEnv = process.env): Theme {
  return noColorRequested(env) ? monoTheme : colorTheme;
}

export const ThemeContext = createContext<Theme>(colorTheme);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
